# Role-based access and tenant isolation.
#
# A request is granted when one of the subject's roles permits the action on
# the resource type and that role's condition holds (a patient only for their
# own records, a researcher only for research). Tenants are isolated: the
# subject's tenant must be the resource's tenant, except under a valid
# break-glass.
package healthhub.access

import data.healthhub.breakglass
import data.healthhub.lib
import data.healthhub.patient

# categories sorts the FHIR resource types the roles are granted on. A
# Bundle counts as clinical, since it may hold any resource. A type
# missing here is granted only to roles with a "*" entry.
categories := {
	"Account": "financial",
	"AllergyIntolerance": "clinical",
	"Appointment": "administrative",
	"Binary": "clinical",
	"Bundle": "clinical",
	"CarePlan": "clinical",
	"CareTeam": "clinical",
	"ChargeItem": "financial",
	"Claim": "financial",
	"ClaimResponse": "financial",
	"ClinicalImpression": "clinical",
	"Communication": "clinical",
	"Composition": "clinical",
	"Condition": "clinical",
	"Consent": "administrative",
	"Coverage": "financial",
	"CoverageEligibilityRequest": "financial",
	"CoverageEligibilityResponse": "financial",
	"Device": "administrative",
	"DiagnosticReport": "clinical",
	"DocumentReference": "clinical",
	"Encounter": "clinical",
	"Endpoint": "administrative",
	"EpisodeOfCare": "clinical",
	"ExplanationOfBenefit": "financial",
	"FamilyMemberHistory": "clinical",
	"Goal": "clinical",
	"Group": "administrative",
	"HealthcareService": "administrative",
	"ImagingStudy": "clinical",
	"Immunization": "clinical",
	"Invoice": "financial",
	"Location": "administrative",
	"Media": "clinical",
	"Medication": "administrative",
	"MedicationAdministration": "clinical",
	"MedicationDispense": "clinical",
	"MedicationRequest": "clinical",
	"MedicationStatement": "clinical",
	"NutritionOrder": "clinical",
	"Observation": "clinical",
	"Organization": "administrative",
	"Patient": "administrative",
	"PaymentNotice": "financial",
	"PaymentReconciliation": "financial",
	"Practitioner": "administrative",
	"PractitionerRole": "administrative",
	"Procedure": "clinical",
	"Provenance": "clinical",
	"QuestionnaireResponse": "clinical",
	"RelatedPerson": "administrative",
	"RiskAssessment": "clinical",
	"Schedule": "administrative",
	"ServiceRequest": "clinical",
	"Slot": "administrative",
	"Specimen": "clinical",
}

# permissions maps each role to the actions it may take on each category of
# resource types, and "*" to actions on every type. The sets are written out
# in full so that the policy compiles them as constants.
permissions := {
	"clinician": {
		"clinical": {"read", "search", "history", "create", "update", "transcribe", "analyze", "chat"},
		"administrative": {"read", "search", "history", "create", "update", "transcribe", "analyze", "chat"},
	},
	"nurse": {
		"clinical": {"read", "search", "history", "transcribe", "chat"},
		"administrative": {"read", "search", "history", "transcribe", "chat"},
	},
	"admin": {"administrative": {"read", "search", "history", "create", "update", "delete", "export"}},
	"patient": {
		"clinical": {"read", "search", "history", "chat"},
		"administrative": {"read", "search", "history", "chat"},
	},
	"researcher": {"clinical": {"read", "search", "analyze", "export"}},
	"billing": {"financial": {"read", "search", "create", "update"}},
	"service": {"*": {"read", "search", "history", "create", "update", "transcribe", "analyze", "chat", "export"}},
}

# type_permissions adds actions on single resource types to a role.
type_permissions := {
	"nurse": {
		"Communication": {"create", "update"},
		"DocumentReference": {"create", "update"},
		"Media": {"create", "update"},
		"MedicationAdministration": {"create", "update"},
		"Observation": {"create", "update"},
		"QuestionnaireResponse": {"create", "update"},
	},
	"patient": {
		"Communication": {"create", "update"},
		"Consent": {"create", "update"},
		"QuestionnaireResponse": {"create", "update"},
	},
	"researcher": {"Patient": {"read", "search", "analyze", "export"}},
	"billing": {
		"Condition": {"read", "search"},
		"Encounter": {"read", "search"},
		"Organization": {"read", "search"},
		"Patient": {"read", "search"},
		"Practitioner": {"read", "search"},
		"Procedure": {"read", "search"},
	},
}

# permitted_roles are the subject's roles whose permissions cover the action
# on the resource type, before their conditions.
permitted_roles contains role if {
	some role in input.subject.roles
	input.action in permissions[role][categories[input.resource.type]]
}

permitted_roles contains role if {
	some role in input.subject.roles
	input.action in permissions[role]["*"]
}

permitted_roles contains role if {
	some role in input.subject.roles
	input.action in type_permissions[role][input.resource.type]
}

# granting_roles are the permitted roles whose condition holds: a patient
# reaches only their own records, a researcher acts only for research.
granting_roles contains role if {
	some role in permitted_roles
	not role in {"patient", "researcher"}
}

granting_roles contains "patient" if {
	"patient" in permitted_roles
	patient.own_record
}

granting_roles contains "researcher" if {
	"researcher" in permitted_roles
	input.subject.purpose_of_use == "HRESCH"
}

# grants repeats the conditions of granting_roles instead of reading it, which
# keeps the common decision one rule shorter.
grants contains {"code": "access.role", "message": sprintf("role %s may %s %s", [role, input.action, input.resource.type])} if {
	some role in permitted_roles
	not role in {"patient", "researcher"}
}

# The rules for the patient and researcher roles test the subject's roles
# first, which permitted_roles implies, so that OPA's rule index skips them
# for subjects without the role.
grants contains {"code": "access.role", "message": sprintf("role patient may %s %s", [input.action, input.resource.type])} if {
	"patient" in input.subject.roles
	"patient" in permitted_roles
	patient.own_record
}

grants contains {"code": "access.role", "message": sprintf("role researcher may %s %s", [input.action, input.resource.type])} if {
	"researcher" in input.subject.roles
	"researcher" in permitted_roles
	input.subject.purpose_of_use == "HRESCH"
}

deny contains {"code": "access.no_role", "message": sprintf("no role of the subject may %s %s", [lib.action, lib.resource_type])} if {
	count(permitted_roles) == 0
}

deny contains {"code": "patient.not_own_record", "message": "a patient may only access their own records"} if {
	"patient" in input.subject.roles
	"patient" in permitted_roles
	count(grants) == 0
	not patient.own_record
}

deny contains {"code": "access.research_purpose", "message": "a researcher needs purpose of use HRESCH"} if {
	"researcher" in input.subject.roles
	"researcher" in permitted_roles
	count(grants) == 0
	not input.subject.purpose_of_use == "HRESCH"
}

deny contains {"code": "tenant.missing", "message": "the subject has no tenant"} if {
	object.get(input, ["subject", "tenant"], "") == ""
}

deny contains {"code": "tenant.missing", "message": "the resource has no tenant"} if {
	object.get(input, ["resource", "tenant"], "") == ""
}

deny contains {"code": "tenant.mismatch", "message": "the resource belongs to another tenant"} if {
	input.subject.tenant != input.resource.tenant
	not breakglass.active
}

# notes explain grants that relied on an exception.
notes contains {"code": "tenant.break_glass", "message": "cross-tenant access under break-glass"} if {
	input.subject.tenant != input.resource.tenant
	breakglass.active
}
