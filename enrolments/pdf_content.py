"""Active content in uploaded PDFs: JavaScript, actions that run by themselves, commands that
start other programs, attached files and XFA forms. A reviewer opens every document in a
browser's or desktop PDF reader, which may run them; a scanned ID never needs any of them.

`active_content_found` names what a PDF holds; `active_content_remove` writes a copy without
it. Both walk every object reachable from the document's trailer (not only the catalog and
the pages), so that content hidden in a form field's parent, an outline item or an action's
chain is found too. A removed copy is checked again by `active_content_found`, so what the
removal misses is refused, never stored."""

import enum
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

import pikepdf


class ActiveContent(enum.Enum):
    """What a PDF may hold, in the words a student reads."""

    JAVASCRIPT = "JavaScript (program code)"
    AUTOMATIC_ACTIONS = "actions that run by themselves when the file is opened or used"
    LAUNCH = "a command that starts another program"
    ATTACHED_FILES = "attached files"
    XFA_FORM = "an XFA form"


# Actions that run code or start programs: refused wherever they are referenced from.
ACTION_KINDS = {
    pikepdf.Name.JavaScript: ActiveContent.JAVASCRIPT,
    pikepdf.Name.Launch: ActiveContent.LAUNCH,
}
# Keys through which a dictionary points at an action (annotations, outline items, the catalog's
# open action, the chain that follows an action).
ACTION_KEYS = (pikepdf.Name.A, pikepdf.Name.OpenAction, pikepdf.Name.Next)
# Keys that hold active content wherever they appear.
ACTIVE_KEYS = {
    pikepdf.Name.JS: ActiveContent.JAVASCRIPT,
    pikepdf.Name.JavaScript: ActiveContent.JAVASCRIPT,  # the /Names tree of scripts
    pikepdf.Name.AA: ActiveContent.AUTOMATIC_ACTIONS,  # on the catalog, pages, fields, widgets
    pikepdf.Name.EmbeddedFiles: ActiveContent.ATTACHED_FILES,
    pikepdf.Name.EF: ActiveContent.ATTACHED_FILES,  # a file specification's embedded file
    pikepdf.Name.XFA: ActiveContent.XFA_FORM,
}
# Readers treat a document with /NeedsRendering as an XFA form to be drawn by the form.
XFA_KEYS = (pikepdf.Name.XFA, pikepdf.Name.NeedsRendering)


class ActiveContentNotRemoved(Exception):
    """The copy still held active content after the removal (a structure it does not know)."""

    def __init__(self, found: list[ActiveContent]) -> None:
        super().__init__(", ".join(kind.name for kind in found))
        self.found = found


def _dictionary(obj: pikepdf.Object) -> pikepdf.Dictionary | None:
    if isinstance(obj, pikepdf.Dictionary):
        return obj
    if isinstance(obj, pikepdf.Stream):
        return obj.stream_dict
    return None


def _reachable_dictionaries(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every dictionary (a stream's included) reachable from the trailer, once each. Iterative,
    so a hostile nesting depth cannot exhaust the stack."""
    seen: set[tuple[int, int]] = set()
    pending: list[pikepdf.Object] = [pdf.trailer]
    while pending:
        obj = pending.pop()
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            continue  # numbers, names, strings, null: pikepdf gives them as Python values
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        dictionary = _dictionary(obj)
        if dictionary is not None:
            yield dictionary
            pending.extend(dictionary.values())
        elif isinstance(obj, pikepdf.Array):
            pending.extend(obj)


def _action_kind(obj: pikepdf.Object) -> ActiveContent | None:
    dictionary = _dictionary(obj)
    if dictionary is None:
        return None
    action_type = dictionary.get(pikepdf.Name.S)
    return ACTION_KINDS.get(action_type) if isinstance(action_type, pikepdf.Name) else None


def _found_in(pdf: pikepdf.Pdf) -> list[ActiveContent]:
    found: set[ActiveContent] = set()
    for dictionary in _reachable_dictionaries(pdf):
        found.update(kind for key, kind in ACTIVE_KEYS.items() if key in dictionary)
        if (kind := _action_kind(dictionary)) is not None:
            found.add(kind)
        if dictionary.get(pikepdf.Name.Subtype) == pikepdf.Name.FileAttachment:
            found.add(ActiveContent.ATTACHED_FILES)
        if dictionary.get(pikepdf.Name.Type) == pikepdf.Name.EmbeddedFile:
            found.add(ActiveContent.ATTACHED_FILES)
    return [kind for kind in ActiveContent if kind in found]


def _binary(file: IO[bytes]) -> BinaryIO:
    """pikepdf reads and writes any binary file object (an upload, a spooled temporary file);
    its types ask for BinaryIO."""
    return cast(BinaryIO, file)


def active_content_found(file: IO[bytes]) -> list[ActiveContent]:
    """What active content the PDF in `file` holds, in ActiveContent's order; empty when none.
    Raises pikepdf.PdfError when the file cannot be read as a PDF."""
    file.seek(0)
    with pikepdf.open(_binary(file)) as pdf:
        return _found_in(pdf)


def _is_file_attachment(obj: pikepdf.Object) -> bool:
    dictionary = _dictionary(obj)
    return dictionary is not None and (
        dictionary.get(pikepdf.Name.Subtype) == pikepdf.Name.FileAttachment
    )


def _remove_from(dictionary: pikepdf.Dictionary) -> None:
    for key in (*ACTIVE_KEYS, *XFA_KEYS):
        if key in dictionary:
            del dictionary[key]
    for key in ACTION_KEYS:
        target = dictionary.get(key)
        if isinstance(target, pikepdf.Array):
            kept = [action for action in target if _action_kind(action) is None]
            if len(kept) != len(target):
                dictionary[key] = pikepdf.Array(kept)
        elif target is not None and _action_kind(target) is not None:
            del dictionary[key]
    annotations = dictionary.get(pikepdf.Name.Annots)
    if isinstance(annotations, pikepdf.Array) and any(map(_is_file_attachment, annotations)):
        dictionary[pikepdf.Name.Annots] = pikepdf.Array(
            [annotation for annotation in annotations if not _is_file_attachment(annotation)]
        )


def active_content_remove(file: IO[bytes], out: IO[bytes]) -> None:
    """Write to `out` a copy of the PDF in `file` without its active content: scripts and
    launch commands are cut from everything that points at them, automatic actions, attached
    files and XFA forms are dropped (an XFA form's ordinary form fields stay). Only objects
    still reachable are written. Raises ActiveContentNotRemoved if the copy still holds some."""
    file.seek(0)
    with pikepdf.open(_binary(file)) as pdf:
        for dictionary in list(_reachable_dictionaries(pdf)):
            _remove_from(dictionary)
        pdf.save(_binary(out))
    out.seek(0)
    with pikepdf.open(_binary(out)) as copy:
        left = _found_in(copy)
    if left:
        raise ActiveContentNotRemoved(left)
    out.seek(0)
