"""The single permission table: which admin role may do what.

Every admin route names one permission; `tests/test_permissions.py` walks every
admin route as every role and checks it against this table, and the README prints
it. Least privilege: a role gets only what its job needs.
"""

from __future__ import annotations

AGENCY = "agency_admin"
HR = "hr"
UNIT_LEADER = "unit_leader"
INTERVIEWER = "interviewer"
STAFF = "staff"

PERMISSIONS: dict[str, frozenset[str]] = {
    # console home, visible to every signed-in role
    "home": frozenset({AGENCY, HR, UNIT_LEADER, INTERVIEWER, STAFF}),
    # organisation, questionnaires, campaigns, QR sheets, invitations, cleaning review
    "org.manage": frozenset({AGENCY}),
    "questionnaire.manage": frozenset({AGENCY}),
    "campaign.manage": frozenset({AGENCY}),
    "campaign.monitor": frozenset({AGENCY, UNIT_LEADER}),
    "cleaning.review": frozenset({AGENCY}),  # only the agency sees pseudonyms and flags
    "audit.view": frozenset({AGENCY}),
    # the outbox to the provincial platform: its state and "retry now"
    "outbox.manage": frozenset({AGENCY}),
    # field interviews on a citizen's behalf
    "interview.enter": frozenset({AGENCY, INTERVIEWER}),
    # sampled phone follow-up: draw and read rounds (agency), work the call list
    "phone.manage": frozenset({AGENCY}),
    "phone.call": frozenset({AGENCY, INTERVIEWER}),
    # mystery shopping (暗访): checklists, plans and scores (agency); the visit list and
    # entering one's own visits (evaluators, i.e. interviewers)
    "mystery.manage": frozenset({AGENCY}),
    "mystery.visit": frozenset({AGENCY, INTERVIEWER}),
    # bad-review work orders of the leader's own unit
    "case.handle": frozenset({AGENCY, UNIT_LEADER}),
    # published, cleaned aggregates and exports
    "scores.view": frozenset({AGENCY, HR}),
    "grade.decide": frozenset({HR}),
    "appeal.review": frozenset({AGENCY}),
    # one's own published results and appeals (a leader is a staff member too)
    "self.view": frozenset({STAFF, UNIT_LEADER}),
}


def allowed(role: str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role in PERMISSIONS[permission]
