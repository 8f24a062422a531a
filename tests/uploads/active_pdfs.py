"""PDFs with active content, built by the tests with pikepdf: each is a one-page document with
a line of text, plus one kind of active content in one of the places readers look for it."""

import io
from collections.abc import Callable

import pikepdf
from pikepdf import Array, Dictionary, Name, String

PAGE_TEXT = b"BT /F1 14 Tf 20 100 Td (Matric certificate of Thandi Mokoena) Tj ET"
RECT = Array([20, 20, 120, 60])
# The words of the refusal for each kind (enrolments.pdf_content.ActiveContent).
JAVASCRIPT = "JavaScript (program code)"
AUTOMATIC = "actions that run by themselves when the file is opened or used"
LAUNCH = "a command that starts another program"
ATTACHED = "attached files"
XFA = "an XFA form"


def build_pdf(add: Callable[[pikepdf.Pdf], None] | None = None) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 200))
    page = pdf.pages[0]
    page.Contents = pdf.make_stream(PAGE_TEXT)
    page.Resources = Dictionary(
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    )
    if add is not None:
        add(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _script(pdf: pikepdf.Pdf, code: str = "app.alert('Hello from the PDF');") -> pikepdf.Object:
    return pdf.make_indirect(Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code)))


def _annotate(pdf: pikepdf.Pdf, annotation: Dictionary) -> pikepdf.Object:
    annotation = pdf.make_indirect(annotation)
    page = pdf.pages[0].obj
    page.Annots = Array([*page.get(Name.Annots, Array()), annotation])
    annotation.P = page
    return annotation


def open_action_javascript(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = _script(pdf)


def names_tree_javascript(pdf: pikepdf.Pdf) -> None:
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("init"), _script(pdf)])))


def catalog_additional_actions(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AA = Dictionary(WC=_script(pdf, "app.launchURL('https://example.org/');"))


def page_additional_actions(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.AA = Dictionary(O=_script(pdf))


def annotation_additional_actions(pdf: pikepdf.Pdf) -> None:
    _annotate(
        pdf,
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=RECT,
            Border=Array([0, 0, 0]),
            AA=Dictionary(E=_script(pdf)),
        ),
    )


def form_field_additional_actions(pdf: pikepdf.Pdf) -> None:
    """A text field whose keystroke action runs a script; the widget on the page is its kid."""
    field = pdf.make_indirect(
        Dictionary(FT=Name.Tx, T=String("surname"), AA=Dictionary(K=_script(pdf)))
    )
    widget = _annotate(
        pdf, Dictionary(Type=Name.Annot, Subtype=Name.Widget, Rect=RECT, Parent=field)
    )
    field.Kids = Array([widget])
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))


def launch_on_open(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = Dictionary(
        S=Name.Launch,
        Win=Dictionary(F=String("cmd.exe"), P=String("/c calc.exe")),
        F=String("/usr/bin/xcalc"),
    )


def launch_from_a_link(pdf: pikepdf.Pdf) -> None:
    _annotate(
        pdf,
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=RECT,
            A=Dictionary(S=Name.Launch, F=String("invoice.exe"), NewWindow=True),
        ),
    )


def script_in_an_outline_action_chain(pdf: pikepdf.Pdf) -> None:
    """A bookmark whose harmless "go to page 1" action is followed (/Next) by a script."""
    go_to = Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]), Next=_script(pdf))
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=1))
    item = pdf.make_indirect(Dictionary(Title=String("Page 1"), Parent=outlines, A=go_to))
    outlines.First = outlines.Last = item
    pdf.Root.Outlines = outlines


def embedded_files(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(
        pdf, b"MZ\x90\x00 not really a program", mime_type="application/octet-stream"
    )


def file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    attached = pdf.make_stream(b"MZ\x90\x00 not really a program", Type=Name.EmbeddedFile)
    _annotate(
        pdf,
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.FileAttachment,
            Rect=RECT,
            Contents=String("Open me"),
            FS=Dictionary(Type=Name.Filespec, F=String("invoice.exe"), EF=Dictionary(F=attached)),
        ),
    )


def xfa_form(pdf: pikepdf.Pdf) -> None:
    template = pdf.make_stream(
        b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform><script '
        b'contentType="application/x-javascript">app.alert(1)</script></subform></template>'
        b"</xdp:xdp>"
    )
    field = pdf.make_indirect(
        Dictionary(
            FT=Name.Tx, T=String("surname"), Type=Name.Annot, Subtype=Name.Widget, Rect=RECT
        )  # fmt: skip
    )
    _annotate(pdf, field)
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]), XFA=template)
    pdf.Root.NeedsRendering = True


# (builder, what the refusal names)
ACTIVE_PDFS = {
    "JavaScript run on opening (/OpenAction)": (open_action_javascript, [JAVASCRIPT]),
    "JavaScript in the document's names tree": (names_tree_javascript, [JAVASCRIPT]),
    "additional actions of the catalog": (catalog_additional_actions, [JAVASCRIPT, AUTOMATIC]),
    "additional actions of a page": (page_additional_actions, [JAVASCRIPT, AUTOMATIC]),
    "additional actions of an annotation": (
        annotation_additional_actions,
        [JAVASCRIPT, AUTOMATIC],
    ),
    "additional actions of a form field": (
        form_field_additional_actions,
        [JAVASCRIPT, AUTOMATIC],
    ),
    "a program launched on opening": (launch_on_open, [LAUNCH]),
    "a program launched from a link": (launch_from_a_link, [LAUNCH]),
    "JavaScript chained after a bookmark's action": (
        script_in_an_outline_action_chain,
        [JAVASCRIPT],
    ),
    "embedded files": (embedded_files, [ATTACHED]),
    "a file attachment annotation": (file_attachment_annotation, [ATTACHED]),
    "an XFA form": (xfa_form, [XFA]),
}


def active_parts(content: bytes) -> list[str]:
    """Every piece of active content in a PDF, found by looking at each of its objects (and
    the dictionaries and arrays inside them) with pikepdf, independently of the code under
    test; empty for a clean file."""
    found = []
    with pikepdf.open(io.BytesIO(content)) as pdf:
        pending = [pdf.trailer, *pdf.objects]
        while pending:
            obj = pending.pop()
            if isinstance(obj, pikepdf.Stream):
                obj = obj.stream_dict
            if isinstance(obj, pikepdf.Array):
                pending.extend(item for item in obj if not _indirect(item))
            elif isinstance(obj, pikepdf.Dictionary):
                for key in ("/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EF", "/XFA"):
                    if key in obj:
                        found.append(key)
                if obj.get("/S") in (Name.JavaScript, Name.Launch):
                    found.append(str(obj.S))
                if obj.get("/Subtype") == Name.FileAttachment:
                    found.append("/FileAttachment")
                if obj.get("/Type") == Name.EmbeddedFile:
                    found.append("/EmbeddedFile")
                if "/NeedsRendering" in obj:
                    found.append("/NeedsRendering")
                pending.extend(value for value in obj.values() if not _indirect(value))
    return found


def _indirect(obj: object) -> bool:
    return isinstance(obj, pikepdf.Object) and obj.is_indirect
