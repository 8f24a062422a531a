"""Sealing benchmark: the time from "send this agreement" to the sealed PDF, for a 5-page
agreement with three signers (student, sponsor, institution admin, two of them typed and one
drawn signature).

Each round runs the services as the pages do: `submission_create` (merge fields, WeasyPrint
render, frozen PDF and its SHA-256), `submission_send`, and three `submitter_sign` calls, the
last of which stamps the signature page and audit certificate onto the document and seals it
with the institution's certificate (pyHanko, PAdES, incremental update). The institution's
certificate is made once before the rounds, as provisioning would.

    .venv/bin/python bench/sealing.py [--rounds 9]

Runs in a scratch database of its own (see scratch.py), files in a temporary directory.
stdout ends with:

    pages: <pages of the agreement before the signature pages>
    render_median_s: <float>   submission_create alone
    seal_median_s: <float>     the stamping and sealing alone (submission_final_pdf)
    median_s: <float>          the whole round

Target: median_s under 1 s.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

from scratch import log, run_benchmark

PARAGRAPH = (
    "<p>{{ student.full_name }} and {{ institution.name }} agree that the training for "
    "{{ cohort.name }}, starting on {{ cohort.start_date }}, is delivered as the programme "
    "describes, with workplace experience arranged with {{ sponsor.company_name }}. The "
    "participant attends every session, completes the assessments and keeps to the rules of "
    "the workplace; the institution provides the material, the assessors and the records the "
    "law requires, and reports progress to the sponsor each month.</p>"
)


SECTIONS = 9  # five A4 pages


def agreement_body() -> str:
    sections = []
    for number in range(1, SECTIONS + 1):
        sections.append(f"<h2>{number}. Section {number}</h2>" + PARAGRAPH * 3)
    return "".join(sections)


def signature_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line(
        [(20, 150), (120, 40), (200, 160), (320, 50), (460, 140), (580, 60)], fill="black", width=4
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def measure(rounds: int) -> dict[str, float | int]:
    from pypdf import PdfReader

    from accounts.models import User
    from notifications.models import OutboundEmail
    from signing.selectors import link_for_token
    from signing.services.certificates import certificate_for_institution
    from signing.services.completion import submission_final_pdf, submitter_sign
    from signing.services.submissions import submission_create, submission_send
    from signing.services.templates import template_create
    from tenants.db import tenant_connection
    from tenants.services import institution_provision

    institution = institution_provision(
        name="Bench College", code="bench", admin_email="admin@bench.example"
    )
    tenant_connection.set_tenant(institution)
    admin = User.objects.get(email="admin@bench.example")
    template = template_create(
        title="Learnership agreement",
        body=agreement_body(),
        signer_roles=["student", "sponsor", "institution_admin"],
        actor=admin,
    )
    certificate_for_institution()
    drawn = signature_png()
    context = {
        "student.full_name": "Thandi Mokoena",
        "cohort.name": "Data Analytics Learnership 2027",
        "cohort.start_date": "1 February 2027",
        "sponsor.company_name": "Ubuntu Mining (Pty) Ltd",
    }

    def token_for(email: str) -> str:
        message = OutboundEmail.objects.filter(recipient=email).latest("id")
        return message.context["sign_url"].rstrip("/").rsplit("/", 1)[1]

    totals, renders, seals, pages = [], [], [], 0
    for index in range(rounds):
        signers = [
            {"role": "student", "name": "Thandi Mokoena", "email": f"s{index}@bench.example"},
            {"role": "sponsor", "name": "Sipho Dlamini", "email": f"p{index}@bench.example"},
            {
                "role": "institution_admin",
                "name": "Lerato Khumalo",
                "email": f"a{index}@bench.example",
            },
        ]
        started = time.perf_counter()
        submission = submission_create(
            template=template, context=context, signers=signers, actor=admin
        )
        renders.append(time.perf_counter() - started)
        submission_send(submission=submission, actor=admin)
        for number, signer in enumerate(signers):
            link = link_for_token(token_for(signer["email"]))
            assert link is not None, "the signer's link was just sent"
            submitter_sign(
                link=link,
                signed_name=signer["name"],
                consent=True,
                signature_text="" if number == 0 else signer["name"],
                signature_png=drawn if number == 0 else None,
            )
        totals.append(time.perf_counter() - started)
        submission.refresh_from_db()
        assert submission.status == "completed", submission.status
        started = time.perf_counter()
        submission_final_pdf(submission)
        seals.append(time.perf_counter() - started)
        with submission.original_pdf.open("rb") as original:
            pages = len(PdfReader(original).pages)
        log(f"round {index + 1}: {totals[-1]:.3f} s ({pages} pages)")
    return {
        "pages": pages,
        "render_median_s": statistics.median(renders),
        "seal_median_s": statistics.median(seals),
        "median_s": statistics.median(totals),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="cohortly-bench-sealing-")
    return run_benchmark("sealing", lambda: measure(args.rounds))


if __name__ == "__main__":
    sys.exit(main())
