"""Common reasons for turning a document down, offered as a pick-list beside the free text on
the review page. Keyed by the name of the document type (the catalogue an institution starts
with, cohorts migration 0002); a type an institution added itself gets the generic list."""

GENERIC_REASONS = (
    "The file is blurry or too dark to read.",
    "Part of the document is cut off: include the whole page.",
    "This is not the document that was asked for.",
    "The name on the document does not match yours.",
    "The file is damaged or does not open.",
)

REASONS_BY_DOCUMENT_TYPE = {
    "South African ID or passport": (
        "The photo is blurry or too dark to read.",
        "Only one side of the ID card is included: upload both sides.",
        "Part of the ID is cut off: include the whole card or page.",
        "The ID number does not match the one in your details.",
        "The passport has expired.",
        "This is not an ID document or passport.",
    ),
    "Matric certificate": (
        "The certificate is blurry or too dark to read.",
        "Part of the certificate is cut off: include the whole page.",
        "This is a statement of results, not the certificate.",
        "The name on the certificate does not match yours.",
        "This is not a matric certificate or an equivalent.",
    ),
    "Highest qualification": (
        "The certificate is blurry or too dark to read.",
        "Part of the certificate is cut off: include the whole page.",
        "This is an academic record, not the certificate.",
        "The name on the certificate does not match yours.",
    ),
    "Proof of address": (
        "The document is older than three months.",
        "The document is not in your name.",
        "The address cannot be read or is cut off.",
        "This is not a utility bill, bank statement or lease.",
    ),
    "Bank confirmation letter": (
        "The letter is not stamped or signed by the bank.",
        "The account is not in your name.",
        "The letter is older than three months.",
        "The account number cannot be read.",
    ),
    "CV": (
        "The CV is incomplete: add your education and work history.",
        "The CV has no contact details.",
        "This is not a CV.",
    ),
}


def rejection_reasons(document_type_name: str) -> tuple[str, ...]:
    """The pick-list for a document type: its own reasons, else the generic ones."""
    return REASONS_BY_DOCUMENT_TYPE.get(document_type_name, GENERIC_REASONS)
