"""Schemathesis hooks for Cordée's run (scripts/schemathesis.sh).

What the document states but a generic generator cannot produce, and one check made
exact:

- `ins-matricule`: the document gives the matricule's shape as a pattern and names
  this format for its key (97 - the 13-digit number mod 97, `2A`/`2B` counting as
  19/18). A regular expression cannot say the key, so valid ones are generated here.
- `siret`: 14 digits whose Luhn key is right (La Poste's SIREN 356000000 aside); as
  for the matricule, valid ones are generated here, and a SIRET of the right shape with
  a wrong key may be refused (422 `organisation.invalid_siret`).
- `date`: the only dates the API reads are birth dates, from 1890 and not in the
  future (their pattern says the first, the description the second). Dates are drawn
  from that range so that a valid request is a valid request.
- Uploads: the API reads what a file is from its first bytes, whatever its declared
  type. Schemathesis sends a real file for the image types it knows; the other types
  the document lists (PDF, HEIC/HEIF, `application/octet-stream`) get one too.
- `positive_data_acceptance` (replaced by `positive_data_acceptance_but_facts`): the
  built-in check fails when a request valid by the document is refused with 400, 410
  or 422. Some refusals depend on facts no document can hold: an id in a body that
  names nothing (yet), a time relative to now, a profession that does not fit a role,
  the one-time `state` of a login, a patient erased meanwhile. Those are allowed below by their stable `code` — and
  only those: any other 400, 410 or 422 to a valid request still fails the run. A matricule
  whose key is wrong is refused too (422 `patient.invalid_ins`/`invalid_query`): the
  coverage phase builds values from the pattern without the format; that refusal is
  allowed only when the request does carry a matricule of the right shape and a wrong
  key, checked here.
"""

import datetime
import re

import schemathesis
from hypothesis import strategies as st
from schemathesis.core import file_samples
from schemathesis.specs.openapi.checks import positive_data_acceptance

# The codes of refusals that depend on facts rather than on the request's shape.
REFUSED_BY_FACTS = {
    # An id in the body names nothing the caller may use (yet): the generator draws ids.
    "care_team.unknown_account",
    "consent.unknown_account",
    "consent.unknown_entry",
    "conversation.unknown_member",
    "entry.unknown_attachment",
    "message.unknown_attachment",
    "message.unknown_cursor",
    "message.unknown_mention",
    "message.unknown_reply_to",
    # Relative to now.
    "care_team.invalid_end",
    "consent.informed_in_future",
    "aci.invalid_year",
    # Relative to the accounts involved.
    "care_team.role_mismatch",
    "me.exercice_unknown",
    "conversation.direct_needs_one",
    # `rcp` is read-only in the matrix: a rule between the path and the body.
    "matrix.rcp_read_only",
    # A rule across the items of a list that JSON Schema cannot state (each code at
    # most once, whatever the other fields; `uniqueItems` compares whole items).
    "aci.duplicate_indicator",
    # A callback answers a login this browser started; its `state` cannot be drawn.
    "auth.state_mismatch",
    # 410: the patient was erased (by an admin, earlier in the run); like a 404.
    "patient.erased",
    # Campaigns (issue 15): rules between fields (the period's ends, distinct action
    # codes, targets naming those codes), a day its month lacks, and a count's day or
    # kind against the campaign's period and kinds and today.
    "campaign.invalid_period",
    "campaign.invalid_action_kinds",
    "campaign.invalid_targets",
    "campaign.invalid_date",
    "campaign.unknown_kind",
    "campaign.outside_period",
    "campaign.future_day",
    # Waiting list (issue 14): ids in the body that name no GP with places left, the
    # pending proposals already counted, `patient_id` or `identity` (one of them),
    # `from` not after `to` (and real calendar days), `until` today or later.
    "waiting_list.not_a_gp",
    "waiting_list.no_capacity",
    "waiting_list.too_many_gps",
    "waiting_list.invalid_patient",
    "waiting_list.invalid_period",
    "gp_capacity.invalid_until",
    # Pathways, care plans and tasks (issue 12): ids that name nothing usable (yet),
    # days relative to today, the assignee's team and profession.
    "care_plan.unknown_pathway",
    "care_plan.referent_not_in_team",
    "care_plan.review_in_past",
    "care_plan.review_too_far",
    "task.unknown_assignee",
    "task.assignee_not_in_team",
    "task.category_not_for_assignee",
    "task.due_in_past",
    "task.due_too_far",
    "task.reason_required",
    # Case conferences (issue 13): an account id that names nobody (yet); a quorum
    # asking for more distinct professions than participants (a rule between fields).
    "case_conference.unknown_account",
    "case_conference.invalid_quorum",
    # A correction's `case_id` that names no case of this conference's record.
    "case_conference.unknown_case",
}


def _with_key(body: str) -> str:
    numeric = body.upper().replace("2A", "19").replace("2B", "18")
    return f"{body}{97 - int(numeric) % 97:02d}"


_matricule = st.builds(
    lambda sex, digits, dept, rest: _with_key(f"{sex}{digits}{dept}{rest}"),
    st.sampled_from("123478"),
    st.from_regex(r"\A[0-9]{4}\Z"),
    st.one_of(st.from_regex(r"\A[0-9]{2}\Z"), st.sampled_from(["2A", "2B"])),
    st.from_regex(r"\A[0-9]{6}\Z"),
)
schemathesis.openapi.format("ins-matricule", _matricule)

def _luhn_complete(body: str) -> str:
    """`body` (13 digits) followed by the digit that makes the Luhn sum right."""
    for last in "0123456789":
        if _luhn_ok(body + last):
            return body + last
    raise AssertionError("a Luhn digit always exists")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


schemathesis.openapi.format(
    "siret",
    st.from_regex(r"\A[0-9]{13}\Z").filter(lambda b: not b.startswith("356000000")).map(_luhn_complete),
)

_yesterday = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)
schemathesis.openapi.format(
    "date",
    st.dates(min_value=datetime.date(1890, 1, 1), max_value=_yesterday).map(datetime.date.isoformat),
)


# Uploads: a real file for every type the document lists.
file_samples.MEDIA_TYPE_FILE_SAMPLES.update(
    {
        "application/pdf": file_samples.FILE_SAMPLES["pdf"],
        "image/heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "image/heif": b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic",
        "application/octet-stream": file_samples.FILE_SAMPLES["png"],
    }
)
schemathesis.serializer.alias(["application/pdf", "image/heic", "image/heif"], "application/octet-stream")

_SHAPE = re.compile(r"[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{8}")


def _wrong_key(value):
    """A matricule of the documented shape whose key is not right."""
    if not isinstance(value, str):
        return False
    compact = "".join(value.split()).upper()
    if not _SHAPE.fullmatch(compact):
        return False
    return _with_key(compact[:13]) != compact


def _carries_wrong_key(case):
    body = case.body if isinstance(case.body, dict) else {}
    query = case.query or {}
    return any(_wrong_key(v) for v in (body.get("ins_matricule"), body.get("query"), body.get("q"), query.get("q")))


def _wrong_siret(case):
    body = case.body if isinstance(case.body, dict) else {}
    value = body.get("siret")
    if not isinstance(value, str):
        return False
    digits = value.replace(" ", "")
    return len(digits) == 14 and digits.isdigit() and not digits.startswith("356000000") and not _luhn_ok(digits)


def _problem_code(response):
    try:
        body = response.json()
    except Exception:
        return None
    return body.get("code") if isinstance(body, dict) else None


@schemathesis.check
def positive_data_acceptance_but_facts(ctx, response, case):
    """`positive_data_acceptance`, except refusals that depend on facts (see above)."""
    code = _problem_code(response)
    if response.status_code in (400, 410, 422) and code in REFUSED_BY_FACTS:
        return True
    if response.status_code == 422 and code in ("patient.invalid_ins", "patient.invalid_query") and _carries_wrong_key(case):
        return True
    if response.status_code == 422 and code == "organisation.invalid_siret" and _wrong_siret(case):
        return True
    return positive_data_acceptance(ctx, response, case)
