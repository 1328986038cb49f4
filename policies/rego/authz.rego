# Tiered access to one department section of a profile, and to the profile header.
#
# Input (one section; see docs/policy.md):
#   subject:  {user_id, department, roles: [role held at a scope covering the person],
#              jurisdictions: [scope paths]}
#   purpose:  routine_visit | case_handling | assistance | follow_up | emergency | statistics
#   justification_provided: bool (the text itself never reaches the policy)
#   resource: {jurisdiction, groups: [sensitive group], department, dataset,
#              fields: [{name, category, grade (1..4), type}]}
#   context:  {time (RFC 3339), emergency: bool}
#
# Output: data.pingan.authz.decision =
#   {allow, visible: [field], obligations: {field: {operator, ...params}},
#    withheld: {field: reason}, reasons: [..], flags: [..]}
# and data.pingan.authz.header = {allow, name, risk_level, responsible_helper, groups,
#   household, reasons, flags}; household: whether the caller may see who the person lives
#   with (the profile's household list, the person's line in a household view).
#
# Rules: whatever is not allowed is denied; any deny reason overrides every allow.
# Masking operators are named here, never in the hub. sprintf is not used (regopy
# mis-quotes strings in it): messages are built with concat. sort() is not used either:
# regopy 1.5.2 returns a value from sort(set) that compares unequal to the same array.
# Collections in the output are sets (JSON arrays on the wire; order is not meaningful).
package pingan.authz

import rego.v1

# ---------------------------------------------------------------- vocabulary

known_roles := {
	"grid_worker", "community_police", "street_officer", "justice_officer",
	"civil_affairs_worker", "health_worker", "hr_worker", "social_worker",
	"department_system", "auditor", "policy_owner",
}

known_purposes := {"routine_visit", "case_handling", "assistance", "follow_up", "emergency", "statistics"}

known_categories := {
	"identity", "contact", "address", "household", "case", "health", "corrections",
	"assistance", "employment", "education", "risk", "administrative",
}

known_groups := {
	"community_corrections", "released_prisoner", "severe_mental_disorder", "drug_involved",
	"minor", "elderly_alone", "domestic_violence_victim", "whistleblower",
}

grade_names := {0: "none", 1: "L1", 2: "L2", 3: "L3", 4: "L4", 5: "L4"}

# ------------------------------------------------------------ role tables

# The department a role works for; its clearance is higher in that department's sections.
home_departments := {
	"community_police": "public_security",
	"justice_officer": "justice",
	"civil_affairs_worker": "civil_affairs",
	"health_worker": "health",
	"hr_worker": "human_resources",
}

# Purposes a role may state.
role_purposes := {
	"grid_worker": {"routine_visit", "assistance", "emergency", "statistics"},
	"community_police": {"routine_visit", "case_handling", "emergency", "statistics"},
	"street_officer": {"routine_visit", "case_handling", "assistance", "emergency", "statistics"},
	"justice_officer": {"routine_visit", "case_handling", "emergency", "statistics"},
	"civil_affairs_worker": {"routine_visit", "assistance", "emergency", "statistics"},
	"health_worker": {"routine_visit", "follow_up", "emergency", "statistics"},
	"hr_worker": {"routine_visit", "assistance", "statistics"},
	"social_worker": {"routine_visit", "assistance", "emergency", "statistics"},
	"department_system": {"case_handling", "assistance", "follow_up", "statistics"},
	"auditor": set(),
	"policy_owner": set(),
}

# Highest grade shown in clear; one grade above is shown masked; higher is withheld.
clearance := {
	"grid_worker": {"home": 2, "other": 2},
	"community_police": {"home": 3, "other": 2},
	"street_officer": {"home": 2, "other": 2},
	"justice_officer": {"home": 4, "other": 2},
	"civil_affairs_worker": {"home": 3, "other": 2},
	"health_worker": {"home": 4, "other": 1},
	"hr_worker": {"home": 3, "other": 1},
	"social_worker": {"home": 2, "other": 2},
	"department_system": {"home": 4, "other": 1},
	"auditor": {"home": 0, "other": 0},
	"policy_owner": {"home": 0, "other": 0},
}

# Categories only some roles may ever see (health details, corrections records).
restricted_categories := {
	"health": {"health_worker", "health:department_system"},
	"corrections": {"justice_officer", "community_police", "justice:department_system"},
}

# Sensitive-group handling: categories withheld or masked for every role not exempt.
group_rules := {
	"community_corrections": {"withhold": {"case", "corrections"}, "mask": {"identity"}, "exempt": {"justice_officer", "community_police"}},
	"released_prisoner": {"withhold": {"case", "corrections"}, "mask": {"identity"}, "exempt": {"justice_officer", "community_police"}},
	"severe_mental_disorder": {"withhold": {"case", "health"}, "mask": set(), "exempt": {"health_worker", "community_police"}},
	"drug_involved": {"withhold": {"case"}, "mask": {"identity"}, "exempt": {"community_police", "justice_officer"}},
	"minor": {"withhold": {"case"}, "mask": {"identity", "contact"}, "exempt": {"community_police", "social_worker"}},
	"elderly_alone": {"withhold": set(), "mask": {"contact"}, "exempt": {"grid_worker", "social_worker", "civil_affairs_worker"}},
	"domestic_violence_victim": {"withhold": {"address", "contact", "household"}, "mask": set(), "exempt": {"community_police", "social_worker"}},
	"whistleblower": {"withhold": {"identity", "contact", "address", "household"}, "mask": set(), "exempt": {"community_police"}},
}

# Roles that may see which sensitive groups a person belongs to (header); others see
# only the risk level and the responsible helper.
group_viewers := {
	"community_police", "street_officer", "justice_officer", "civil_affairs_worker",
	"health_worker", "social_worker", "department_system",
}

# Masking operator for a field shown masked: by field name first, then by category.
# Person names filed under another category (a guardian's or an emergency contact's name
# is "contact") are named here, so they are not masked like a phone number. victim_name
# stays with its category (identity: keyed_pseudonym, which shows less than a surname);
# the *_phone fields stay with the contact operator.
name_operators := {
	"name": {"operator": "name_surname_only"},
	"full_name": {"operator": "name_surname_only"},
	"guardian_name": {"operator": "name_surname_only"},
	"emergency_contact": {"operator": "name_surname_only"},
	# Few distinct values: a keyed pseudonym (the identity category's operator) would be one
	# token per value, read back by anyone who has seen a few profiles. Masked, they go.
	"sex": {"operator": "redact"},
	"ethnicity": {"operator": "redact"},
	"marital_status": {"operator": "redact"},
	"id_number": {"operator": "id_number"},
	"phone": {"operator": "phone"},
	"mobile": {"operator": "phone"},
	"birth_date": {"operator": "year_only"},
	"date_of_birth": {"operator": "year_only"},
	"age": {"operator": "age_band"},
	"address": {"operator": "address_to_community"},
	"actual_address": {"operator": "address_to_community"},
	"registered_address": {"operator": "address_to_community"},
}

category_operators := {
	"identity": {"operator": "keyed_pseudonym"},
	"contact": {"operator": "keep_last_n", "n": 4},
	"address": {"operator": "address_to_community"},
}

# ------------------------------------------------------------ derived facts

subject_roles := {r | some r in input.subject.roles}

break_glass if input.purpose == "emergency"

break_glass if input.context.emergency == true

in_scope if {
	some scope in input.subject.jurisdictions
	startswith(concat("", [input.resource.jurisdiction, "/"]), concat("", [scope, "/"]))
}

# The home department of each role the caller holds ("" when it has none).
role_home[r] := input.subject.department if {
	some r in subject_roles
	r == "department_system"
}

role_home[r] := object.get(home_departments, r, "") if {
	some r in subject_roles
	r != "department_system"
}

# A role key as used in restricted_categories ("health:department_system").
role_keys contains r if some r in subject_roles

role_keys contains concat(":", [input.subject.department, "department_system"]) if "department_system" in subject_roles

# Clearance of each known role the caller holds, computed once per evaluation.
role_base[r] := clearance[r].home if {
	some r in subject_roles
	clearance[r]
	role_home[r] == input.resource.department
}

role_base[r] := clearance[r].other if {
	some r in subject_roles
	clearance[r]
	role_home[r] != input.resource.department
}

top_clearance := max({b | b := role_base[_]})

# Extra grade per category: break glass widens everything, assistance widens its own data.
category_bonus[c] := 1 if {
	some f in input.resource.fields
	c := f.category
	break_glass
}

category_bonus[c] := 1 if {
	some f in input.resource.fields
	c := f.category
	not break_glass
	input.purpose == "assistance"
	c in {"assistance", "employment"}
}

# Highest grade shown in clear, per category present in the section (-1: no role).
limits[c] := -1 if {
	some f in input.resource.fields
	c := f.category
	count(role_base) == 0
}

limits[c] := min({top_clearance, 1}) if {
	some f in input.resource.fields
	c := f.category
	count(role_base) > 0
	input.purpose == "statistics"
}

limits[c] := top_clearance + object.get(category_bonus, c, 0) if {
	some f in input.resource.fields
	c := f.category
	count(role_base) > 0
	input.purpose != "statistics"
}

exempt(group) if {
	some r in subject_roles
	r in group_rules[group].exempt
}

# ------------------------------------------------------------ deny reasons (section and header)

base_deny contains "no role of the caller covers the person's jurisdiction" if count(subject_roles) == 0

base_deny contains concat("", ["unknown role: ", r]) if {
	some r in subject_roles
	not r in known_roles
}

base_deny contains concat("", ["unknown purpose: ", p]) if {
	p := input.purpose
	not p in known_purposes
}

base_deny contains "purpose missing" if not input.purpose

base_deny contains concat("", ["purpose ", input.purpose, " is not permitted for the caller's roles"]) if {
	input.purpose in known_purposes
	count(subject_roles) > 0
	not purpose_permitted
}

purpose_permitted if {
	some r in subject_roles
	input.purpose in role_purposes[r]
}

base_deny contains "break glass requires a justification" if {
	break_glass
	input.justification_provided != true
}

base_deny contains "person's jurisdiction missing" if not input.resource.jurisdiction

base_deny contains "person is outside the caller's jurisdiction" if {
	input.resource.jurisdiction
	not in_scope
}

base_deny contains concat("", ["unknown sensitive group: ", g]) if {
	some g in input.resource.groups
	not g in known_groups
}

section_deny contains msg if some msg in base_deny

section_deny contains "section department or dataset missing" if {
	not input.resource.department
}

section_deny contains "section department or dataset missing" if {
	not input.resource.dataset
}

section_deny contains "section has no fields" if count(object.get(input.resource, "fields", [])) == 0

section_deny contains concat("", ["field ", f.name, " has an unknown category or grade"]) if {
	some f in input.resource.fields
	not valid_field(f)
}

section_deny contains "no field of this section is visible to the caller" if {
	count(object.get(input.resource, "fields", [])) > 0
	count(visible) == 0
}

valid_field(f) if {
	f.category in known_categories
	f.grade in {1, 2, 3, 4}
}

# ------------------------------------------------------------ per-request sets (computed once)

# Restricted categories none of the caller's roles may see.
restricted_out := {c | allowed := restricted_categories[c]; count(allowed & role_keys) == 0}

# Sensitive groups of the person whose protection applies to this caller.
nonexempt_groups := {g | some g in input.resource.groups; group_rules[g]; not exempt(g)}

group_withheld_categories := {c | some g in nonexempt_groups; some c in group_rules[g].withhold}

group_masked_categories := {c | some g in nonexempt_groups; some c in group_rules[g].mask}

withholding_group(category) := min({g | some g in nonexempt_groups; category in group_rules[g].withhold})

# ------------------------------------------------------------ per-field verdicts

withhold_reason(f) := "no clearance could be computed" if not limits[f.category]

else := "above the caller's clearance" if f.grade > limits[f.category] + 1

else := concat("", ["category ", f.category, " is restricted"]) if f.category in restricted_out

else := concat("", ["protected for sensitive group ", withholding_group(f.category)]) if {
	f.category in group_withheld_categories
}

else := "identifying data is not shown for statistics" if {
	input.purpose == "statistics"
	f.category in {"identity", "contact", "address", "household"}
}

masked(f) if f.grade == limits[f.category] + 1

masked(f) if f.category in group_masked_categories

mask_operator(f) := {"operator": "redact"} if f.type == "text"

else := name_operators[f.name] if name_operators[f.name]

else := category_operators[f.category] if category_operators[f.category]

else := {"operator": "redact"}

# One verdict per field, computed once: withheld (with reason), masked or clear.
field_verdict(f) := {"state": "withheld", "reason": "unclassified field"} if not valid_field(f)

else := {"state": "withheld", "reason": reason} if reason := withhold_reason(f)

else := {"state": "masked", "obligation": mask_operator(f)} if masked(f)

# Free text shown unmasked still goes through the hub's PII analyser.
else := {"state": "clear", "obligation": {"operator": "pii_free_text"}} if f.type == "text"

else := {"state": "clear"}

verdicts := {f.name: field_verdict(f) | some f in input.resource.fields}

withheld := {name: v.reason | v := verdicts[name]; v.state == "withheld"}

visible := {name | v := verdicts[name]; v.state != "withheld"}

obligations := {name: v.obligation | v := verdicts[name]; v.obligation}

# ------------------------------------------------------------ decisions

flags contains "review" if break_glass

allow if {
	count(section_deny) == 0
	count(visible) > 0
}

allowed_reason := concat("", [
	"allowed: ", format_int(count(visible), 10), " of ",
	format_int(count(input.resource.fields), 10), " fields visible, ",
	format_int(count(obligations), 10), " with obligations",
])

section_reasons := section_deny if count(section_deny) > 0

else := {allowed_reason}

decision := {
	"allow": true,
	"visible": visible,
	"obligations": obligations,
	"withheld": withheld,
	"reasons": section_reasons,
	"flags": flags,
} if allow

else := {
	"allow": false,
	"visible": set(),
	"obligations": {},
	"withheld": {},
	"reasons": section_reasons,
	"flags": flags,
}

header_allow if count(base_deny) == 0

header := {
	"allow": true,
	"name": header_name,
	"risk_level": true,
	"responsible_helper": true,
	"groups": header_groups,
	"household": header_household,
	"reasons": {"allowed"},
	"flags": flags,
} if header_allow

else := {
	"allow": false,
	"risk_level": false,
	"responsible_helper": false,
	"groups": false,
	"household": false,
	"reasons": base_deny,
	"flags": flags,
}

# The header's name, as a masking obligation (the hub shows no name without one): the
# surname only, and none for statistics, where identifying data is not shown.
header_name := {"operator": "name_surname_only"} if input.purpose != "statistics"

else := null

# Who the person lives with is household data: not shown for statistics, nor when a
# sensitive group of the person withholds the household category from the caller (a
# domestic-violence victim, a whistleblower; group_rules, exempt roles excepted).
header_household := true if {
	input.purpose != "statistics"
	not "household" in group_withheld_categories
}

else := false

header_groups := true if {
	input.purpose != "statistics"
	some r in subject_roles
	r in group_viewers
}

else := true if {
	input.purpose != "statistics"
	break_glass
}

else := false
