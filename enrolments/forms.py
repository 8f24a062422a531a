"""The student portal's forms (the details form is the learner's: learners.forms). Each
validates everything on the server and says, next to the field, what is wrong and how to put it
right."""

from django import forms


class DocumentUploadForm(forms.Form):
    """One file for one required document, with its expiry date when its type expires. The
    checks on the file itself (size, type by content, name) are in enrolments.uploads, which the
    view runs on the cleaned file."""

    file = forms.FileField(
        label="Choose a file",
        allow_empty_file=True,  # enrolments.uploads says "empty" in its own words
        error_messages={"required": "Choose a file to upload."},
    )
    # Checked against the document type by enrolments.uploads.document_expiry_clean.
    expires_on = forms.DateField(
        required=False,
        label="Expiry date",
        error_messages={"invalid": "Enter the date as year-month-day, such as 2031-05-31."},
    )
