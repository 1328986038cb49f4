# Unit tests of pingan.authz: every role, every purpose, every sensitive group.
# Run with `pingan policy test` (both engines must agree).
#
# Convention (see docs/policy.md): test_<name> asserts over authz.decision and
# authz.header evaluated with the input case_<name>; the runner sets that input.
# `with input as` is not used: regopy 1.5.2 aborts the process when `with` reaches a
# rule that references another rule.
package pingan.authz_test

import rego.v1

import data.pingan.authz

sections := {
	"public_security": [
		{"name": "name", "category": "identity", "grade": 2, "type": "string"},
		{"name": "id_number", "category": "identity", "grade": 3, "type": "string"},
		{"name": "phone", "category": "contact", "grade": 3, "type": "string"},
		{"name": "actual_address", "category": "address", "grade": 2, "type": "string"},
		{"name": "case_summary", "category": "case", "grade": 3, "type": "text"},
		{"name": "case_notes", "category": "case", "grade": 4, "type": "text"},
	],
	"justice": [
		{"name": "name", "category": "identity", "grade": 2, "type": "string"},
		{"name": "corrections_status", "category": "corrections", "grade": 3, "type": "string"},
		{"name": "supervision_notes", "category": "corrections", "grade": 4, "type": "text"},
		{"name": "risk_level", "category": "risk", "grade": 2, "type": "string"},
		{"name": "helper", "category": "risk", "grade": 2, "type": "string"},
	],
	"health": [
		{"name": "name", "category": "identity", "grade": 2, "type": "string"},
		{"name": "diagnosis", "category": "health", "grade": 4, "type": "string"},
		{"name": "follow_up_date", "category": "health", "grade": 3, "type": "date"},
		{"name": "risk_level", "category": "risk", "grade": 2, "type": "string"},
	],
	"civil_affairs": [
		{"name": "name", "category": "identity", "grade": 2, "type": "string"},
		{"name": "allowance_type", "category": "assistance", "grade": 2, "type": "string"},
		{"name": "allowance_amount", "category": "assistance", "grade": 3, "type": "integer"},
		{"name": "phone", "category": "contact", "grade": 3, "type": "string"},
		{"name": "household_size", "category": "household", "grade": 2, "type": "integer"},
	],
	"human_resources": [
		{"name": "name", "category": "identity", "grade": 2, "type": "string"},
		{"name": "employment_status", "category": "employment", "grade": 2, "type": "string"},
		{"name": "income", "category": "employment", "grade": 3, "type": "integer"},
	],
	"education": [
		{"name": "name", "category": "identity", "grade": 2, "type": "string"},
		{"name": "school", "category": "education", "grade": 2, "type": "string"},
		{"name": "guardian_name", "category": "contact", "grade": 3, "type": "string"},
		{"name": "guardian_phone", "category": "contact", "grade": 3, "type": "string"},
		{"name": "sex", "category": "identity", "grade": 2, "type": "string"},
	],
}

# A request: role at scope, about a person living in TH/S03/C07/G05.
req(roles, scope, dept, purpose, groups) := {
	"subject": {"user_id": "u-test", "department": "grid_office", "roles": roles, "jurisdictions": [scope]},
	"purpose": purpose,
	"justification_provided": false,
	"resource": {
		"jurisdiction": "TH/S03/C07/G05",
		"groups": groups,
		"department": dept,
		"dataset": "records",
		"fields": sections[dept],
	},
	"context": {"time": "2026-11-22T10:00:00Z", "emergency": false},
}

grid := "TH/S03/C07/G05"

street := "TH/S03"

op(d, field) := d.obligations[field].operator

# ---------------------------------------------------------------- grid_worker

case_grid_worker_sees_l2_of_own_grid := req(["grid_worker"], grid, "civil_affairs", "routine_visit", [])

test_grid_worker_sees_l2_of_own_grid if {
	d := authz.decision
	d.allow
	"name" in d.visible
	"allowance_type" in d.visible
	not d.obligations.name
	op(d, "phone") == "phone"
	op(d, "allowance_amount") == "redact"
}

case_grid_worker_never_sees_health_details := req(["grid_worker"], grid, "health", "routine_visit", [])

test_grid_worker_never_sees_health_details if {
	d := authz.decision
	d.allow
	not "diagnosis" in d.visible
	not "follow_up_date" in d.visible
	d.withheld.follow_up_date == "category health is restricted"
	"risk_level" in d.visible
}

case_grid_worker_outside_grid_denied := json.patch(req(["grid_worker"], "TH/S03/C07/G04", "civil_affairs", "routine_visit", []), [{"op": "replace", "path": "/subject/jurisdictions", "value": ["TH/S03/C07/G04"]}])

test_grid_worker_outside_grid_denied if {
	d := authz.decision
	not d.allow
	"person is outside the caller's jurisdiction" in d.reasons
}

case_scope_is_whole_segments := req(["street_officer"], "TH/S0", "civil_affairs", "routine_visit", [])

test_scope_is_whole_segments if {
	d := authz.decision
	not d.allow
	"person is outside the caller's jurisdiction" in d.reasons
}

case_grid_worker_header_risk_only := req(["grid_worker"], grid, "civil_affairs", "routine_visit", ["severe_mental_disorder"])

test_grid_worker_header_risk_only if {
	h := authz.header
	h.allow
	h.name.operator == "name_surname_only"
	h.risk_level
	h.responsible_helper
	h.household
	h.groups == false
}

case_grid_worker_case_handling_denied := req(["grid_worker"], grid, "public_security", "case_handling", [])

test_grid_worker_case_handling_denied if {
	d := authz.decision
	not d.allow
	"purpose case_handling is not permitted for the caller's roles" in d.reasons
}

# ---------------------------------------------------------------- community_police

case_community_police_case_data := req(["community_police"], grid, "public_security", "case_handling", [])

test_community_police_case_data if {
	d := authz.decision
	d.allow
	op(d, "case_summary") == "pii_free_text"
	op(d, "case_notes") == "redact"
	not d.obligations.id_number
}

case_community_police_header_groups := req(["community_police"], grid, "justice", "routine_visit", ["drug_involved"])

test_community_police_header_groups if {
	h := authz.header
	h.groups
}

# ---------------------------------------------------------------- street_officer

case_street_officer_street_scope := req(["street_officer"], street, "public_security", "routine_visit", [])

test_street_officer_street_scope if {
	d := authz.decision
	d.allow
	op(d, "id_number") == "id_number"
	not "case_notes" in d.visible
}

# ---------------------------------------------------------------- justice_officer

case_justice_officer_corrections_in_street := req(["justice_officer"], street, "justice", "case_handling", ["community_corrections"])

test_justice_officer_corrections_in_street if {
	d := authz.decision
	d.allow
	"corrections_status" in d.visible
	op(d, "supervision_notes") == "pii_free_text"
}

case_justice_officer_other_street_denied := req(["justice_officer"], "TH/S04", "justice", "case_handling", ["community_corrections"])

test_justice_officer_other_street_denied if {
	d := authz.decision
	not d.allow
}

# ---------------------------------------------------------------- civil_affairs_worker

case_civil_affairs_worker_assistance := req(["civil_affairs_worker"], street, "civil_affairs", "assistance", [])

test_civil_affairs_worker_assistance if {
	d := authz.decision
	d.allow
	"allowance_amount" in d.visible
	not d.obligations.allowance_amount
}

# ---------------------------------------------------------------- health_worker

case_health_worker_health_details := req(["health_worker"], street, "health", "follow_up", ["severe_mental_disorder"])

test_health_worker_health_details if {
	d := authz.decision
	d.allow
	"diagnosis" in d.visible
	not d.obligations.diagnosis
}

case_health_worker_elsewhere_masked := req(["health_worker"], street, "public_security", "routine_visit", [])

test_health_worker_elsewhere_masked if {
	d := authz.decision
	d.allow
	op(d, "name") == "name_surname_only"
	not "phone" in d.visible
}

# ---------------------------------------------------------------- hr_worker

case_hr_worker_employment := req(["hr_worker"], street, "human_resources", "routine_visit", ["released_prisoner"])

test_hr_worker_employment if {
	d := authz.decision
	d.allow
	"income" in d.visible
}

case_hr_worker_no_emergency := json.patch(req(["hr_worker"], street, "human_resources", "emergency", []), [{"op": "replace", "path": "/justification_provided", "value": true}])

test_hr_worker_no_emergency if {
	d := authz.decision
	not d.allow
	"purpose emergency is not permitted for the caller's roles" in d.reasons
}

# ---------------------------------------------------------------- social_worker

case_social_worker_assistance_bonus := req(["social_worker"], grid, "civil_affairs", "assistance", [])

test_social_worker_assistance_bonus if {
	d := authz.decision
	d.allow
	"allowance_amount" in d.visible
	op(d, "phone") == "phone"
}

# ---------------------------------------------------------------- department_system

case_department_system_home_department := json.patch(req(["department_system"], "TH", "health", "follow_up", []), [{"op": "replace", "path": "/subject/department", "value": "health"}])

test_department_system_home_department if {
	d := authz.decision
	d.allow
	"diagnosis" in d.visible
}

case_department_system_other_department_restricted := json.patch(req(["department_system"], "TH", "health", "follow_up", []), [{"op": "replace", "path": "/subject/department", "value": "civil_affairs"}])

test_department_system_other_department_restricted if {
	d := authz.decision
	not "diagnosis" in d.visible
}

# ---------------------------------------------------------------- auditor, policy_owner

case_auditor_reads_no_profile := req(["auditor"], "TH", "public_security", "routine_visit", [])

test_auditor_reads_no_profile if {
	d := authz.decision
	not d.allow
	"purpose routine_visit is not permitted for the caller's roles" in d.reasons
}

case_policy_owner_reads_no_profile := req(["policy_owner"], "TH", "civil_affairs", "statistics", [])

test_policy_owner_reads_no_profile if {
	d := authz.decision
	not d.allow
}

# ---------------------------------------------------------------- fail closed

case_unknown_role_denied := req(["janitor"], grid, "civil_affairs", "routine_visit", [])

test_unknown_role_denied if {
	d := authz.decision
	not d.allow
	"unknown role: janitor" in d.reasons
}

case_deny_overrides_allow := req(["grid_worker", "janitor"], grid, "civil_affairs", "routine_visit", [])

test_deny_overrides_allow if {
	d := authz.decision
	not d.allow
	d.visible == set()
}

case_no_roles_denied := req([], grid, "civil_affairs", "routine_visit", [])

test_no_roles_denied if {
	d := authz.decision
	not d.allow
	"no role of the caller covers the person's jurisdiction" in d.reasons
}

case_missing_jurisdiction_denied := json.remove(req(["grid_worker"], grid, "civil_affairs", "routine_visit", []), ["resource/jurisdiction"])

test_missing_jurisdiction_denied if {
	d := authz.decision
	not d.allow
	"person's jurisdiction missing" in d.reasons
}

case_unclassified_field_denied := json.patch(req(["grid_worker"], grid, "education", "routine_visit", []), [{"op": "add", "path": "/resource/fields/-", "value": {"name": "x", "category": "gossip", "grade": 1, "type": "string"}}])

test_unclassified_field_denied if {
	d := authz.decision
	not d.allow
	"field x has an unknown category or grade" in d.reasons
}

case_unknown_group_denied := req(["grid_worker"], grid, "education", "routine_visit", ["vip"])

test_unknown_group_denied if {
	d := authz.decision
	not d.allow
	"unknown sensitive group: vip" in d.reasons
}

# ---------------------------------------------------------------- purposes

case_purpose_routine_visit := req(["grid_worker"], grid, "education", "routine_visit", [])

test_purpose_routine_visit if {
	d := authz.decision
	d.allow
}

case_purpose_follow_up := req(["health_worker"], grid, "health", "follow_up", [])

test_purpose_follow_up if {
	d := authz.decision
	d.allow
}

case_unknown_purpose_denied := req(["grid_worker"], grid, "education", "curiosity", [])

test_unknown_purpose_denied if {
	d := authz.decision
	not d.allow
	"unknown purpose: curiosity" in d.reasons
}

case_emergency_requires_justification := req(["grid_worker"], grid, "public_security", "emergency", [])

test_emergency_requires_justification if {
	d := authz.decision
	not d.allow
	"break glass requires a justification" in d.reasons
	d.flags == {"review"}
}

case_emergency_widens_and_flags_review := json.patch(req(["grid_worker"], grid, "public_security", "emergency", []), [{"op": "replace", "path": "/justification_provided", "value": true}])

test_emergency_widens_and_flags_review if {
	d := authz.decision
	d.allow
	"id_number" in d.visible
	not d.obligations.id_number
	op(d, "case_notes") == "redact"
	d.flags == {"review"}
}

case_emergency_context_flag_is_break_glass := json.patch(req(["grid_worker"], grid, "education", "routine_visit", []), [{"op": "replace", "path": "/context/emergency", "value": true}])

test_emergency_context_flag_is_break_glass if {
	d := authz.decision
	not d.allow
	"break glass requires a justification" in d.reasons
}

case_statistics_hides_identity := req(["civil_affairs_worker"], street, "civil_affairs", "statistics", [])

test_statistics_hides_identity if {
	d := authz.decision
	d.allow
	d.visible == {"allowance_type"}
	d.withheld.name == "identifying data is not shown for statistics"
	h := authz.header
	h.groups == false
	h.name == null
	h.household == false
}

# ---------------------------------------------------------------- sensitive groups

case_group_community_corrections := req(["grid_worker"], grid, "public_security", "routine_visit", ["community_corrections"])

test_group_community_corrections if {
	d := authz.decision
	d.allow
	op(d, "name") == "name_surname_only"
	d.withheld.case_summary == "protected for sensitive group community_corrections"
}

case_group_released_prisoner := req(["street_officer"], street, "justice", "routine_visit", ["released_prisoner"])

test_group_released_prisoner if {
	d := authz.decision
	d.allow
	op(d, "name") == "name_surname_only"
	not "corrections_status" in d.visible
	"risk_level" in d.visible
}

case_group_severe_mental_disorder := req(["community_police"], grid, "health", "routine_visit", ["severe_mental_disorder"])

test_group_severe_mental_disorder if {
	d := authz.decision
	d.allow
	not "diagnosis" in d.visible
	"risk_level" in d.visible
}

case_group_severe_mental_disorder_b := req(["street_officer"], street, "public_security", "routine_visit", ["severe_mental_disorder"])

test_group_severe_mental_disorder_b if {
	d := authz.decision
	d.withheld.case_summary == "protected for sensitive group severe_mental_disorder"
}

case_group_drug_involved := req(["community_police"], grid, "public_security", "case_handling", ["drug_involved"])

test_group_drug_involved if {
	d := authz.decision
	"case_summary" in d.visible
}

case_group_drug_involved_b := req(["street_officer"], street, "public_security", "case_handling", ["drug_involved"])

test_group_drug_involved_b if {
	d := authz.decision
	not "case_summary" in d.visible
	op(d, "name") == "name_surname_only"
}

case_group_minor := req(["grid_worker"], grid, "education", "routine_visit", ["minor"])

test_group_minor if {
	d := authz.decision
	d.allow
	op(d, "name") == "name_surname_only"
	op(d, "guardian_phone") == "keep_last_n"
	op(d, "guardian_name") == "name_surname_only"
	# a minor's identity is masked; sex has two values, so it is redacted, not pseudonymised
	op(d, "sex") == "redact"
}

case_group_minor_b := req(["social_worker"], grid, "education", "routine_visit", ["minor"])

test_group_minor_b if {
	d := authz.decision
	not d.obligations.name
}

case_group_elderly_alone := req(["grid_worker"], grid, "civil_affairs", "routine_visit", ["elderly_alone"])

test_group_elderly_alone if {
	d := authz.decision
	not d.obligations.name
}

case_group_elderly_alone_b := req(["street_officer"], street, "education", "routine_visit", ["elderly_alone"])

test_group_elderly_alone_b if {
	d := authz.decision
	op(d, "guardian_phone") == "keep_last_n"
	op(d, "guardian_name") == "name_surname_only"
}

# A person's name filed as "contact" is masked as a name, not with the contact
# category's keep_last_n (which suits phone numbers): guardian_name, emergency_contact.
case_guardian_name_masked_as_name := req(["grid_worker"], grid, "education", "routine_visit", [])

test_guardian_name_masked_as_name if {
	d := authz.decision
	d.allow
	d.obligations.guardian_name == {"operator": "name_surname_only"}
	d.obligations.guardian_phone == {"operator": "keep_last_n", "n": 4}
}

test_person_name_fields_are_masked_as_names if {
	authz.name_operators.guardian_name == {"operator": "name_surname_only"}
	authz.name_operators.emergency_contact == {"operator": "name_surname_only"}
	not "guardian_phone" in object.keys(authz.name_operators)
	not "emergency_phone" in object.keys(authz.name_operators)
}

case_group_domestic_violence_victim := req(["grid_worker"], grid, "public_security", "routine_visit", ["domestic_violence_victim"])

test_group_domestic_violence_victim if {
	d := authz.decision
	d.allow
	not "actual_address" in d.visible
	not "phone" in d.visible
}

case_group_domestic_violence_victim_b := req(["community_police"], grid, "public_security", "routine_visit", ["domestic_violence_victim"])

test_group_domestic_violence_victim_b if {
	d := authz.decision
	"actual_address" in d.visible
}

case_group_whistleblower := req(["grid_worker"], grid, "civil_affairs", "routine_visit", ["whistleblower"])

test_group_whistleblower if {
	d := authz.decision
	not "name" in d.visible
	d.withheld.name == "protected for sensitive group whistleblower"
}

case_group_whistleblower_b := req(["community_police"], grid, "civil_affairs", "routine_visit", ["whistleblower"])

test_group_whistleblower_b if {
	d := authz.decision
	"name" in d.visible
}

# ---------------------------------------------------------------- household membership

case_household_hidden_for_victim := req(["grid_worker"], grid, "civil_affairs", "routine_visit", ["domestic_violence_victim"])

test_household_hidden_for_victim if {
	h := authz.header
	h.allow
	h.household == false
}

case_household_shown_to_exempt_role := req(["community_police"], grid, "civil_affairs", "routine_visit", ["domestic_violence_victim"])

test_household_shown_to_exempt_role if {
	h := authz.header
	h.allow
	h.household
}

case_household_hidden_for_whistleblower_even_in_emergency := json.patch(
	req(["grid_worker"], grid, "civil_affairs", "emergency", ["whistleblower"]),
	[{"op": "replace", "path": "/justification_provided", "value": true}],
)

test_household_hidden_for_whistleblower_even_in_emergency if {
	h := authz.header
	h.allow
	h.household == false
}
