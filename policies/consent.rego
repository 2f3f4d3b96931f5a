# Patient consent, from the FHIR R4 Consent resources the hub passes in
# input.context.consents.
#
# A Consent applies when it is active and is about the resource's patient.
# A provision matches the request when each constraint it carries matches:
# purpose (subject.purpose_of_use), securityLabel (resource.security_labels),
# class (the resource type), actor (the subject) and period (the decision
# time). Nested provisions are exceptions to the base provision.
#
# Opt-out: a matching deny provision denies the request, unless a nested
# permit provision under it matches. Research: purpose HRESCH needs a
# matching permit provision that names HRESCH as a purpose.
#
# Periods fail closed both ways: a deny provision counts unless its period
# provably excludes the decision time, a permit provision counts only when
# its period provably includes it. A malformed date therefore never turns a
# deny off or a permit on.
package healthhub.consent

import data.healthhub.breakglass
import data.healthhub.lib

applicable contains consent if {
	some consent in input.context.consents
	consent.resourceType == "Consent"
	consent.status == "active"
	consent.patient.reference == input.resource.patient
}

# within(provision) is true when the provision's period provably includes
# the decision time, or it has none.
within(provision) if not provision.period

within(provision) if {
	not provision.period.start
	lib.now_ns < lib.fhir_end_ns(provision.period.end)
}

within(provision) if {
	not provision.period.end
	lib.fhir_start_ns(provision.period.start) <= lib.now_ns
}

within(provision) if {
	lib.fhir_start_ns(provision.period.start) <= lib.now_ns
	lib.now_ns < lib.fhir_end_ns(provision.period.end)
}

# outside(provision) is true when the provision's period provably excludes
# the decision time.
outside(provision) if lib.now_ns < lib.fhir_start_ns(provision.period.start)

outside(provision) if lib.now_ns >= lib.fhir_end_ns(provision.period.end)

matches(provision) if {
	purpose_matches(provision)
	labels_match(provision)
	class_matches(provision)
	actor_matches(provision)
}

purpose_matches(provision) if not provision.purpose

purpose_matches(provision) if {
	some coding in provision.purpose
	coding.code == input.subject.purpose_of_use
}

labels_match(provision) if not provision.securityLabel

labels_match(provision) if {
	some coding in provision.securityLabel
	some label in input.resource.security_labels
	coding.code == label.code
}

class_matches(provision) if not provision.class

class_matches(provision) if {
	some coding in provision.class
	coding.code == input.resource.type
}

actor_matches(provision) if not provision.actor

actor_matches(provision) if {
	some actor in provision.actor
	actor.reference.reference == input.subject.id
}

# denied_by(consent) is true when the consent opts the request out.
denied_by(consent) if {
	consent.provision.type == "deny"
	matches(consent.provision)
	not outside(consent.provision)
	not nested_permit(consent.provision)
}

denied_by(consent) if {
	not outside(consent.provision)
	some nested in consent.provision.provision
	nested.type == "deny"
	matches(nested)
	not outside(nested)
}

nested_permit(provision) if {
	some nested in provision.provision
	nested.type == "permit"
	matches(nested)
	within(nested)
}

# permit_provisions(consent) are the consent's permit provisions, base and
# nested, that match the request within their periods.
permit_provisions(consent) := {provision |
	base := object.get(consent, "provision", {})
	within(base)
	some provision in array.concat([base], object.get(base, "provision", []))
	provision.type == "permit"
	matches(provision)
	within(provision)
}

opted_out if {
	some consent in applicable
	denied_by(consent)
}

research_permitted if {
	some consent in applicable
	some provision in permit_provisions(consent)
	some coding in provision.purpose
	coding.code == "HRESCH"
}

deny contains {"code": "consent.opt_out", "message": message} if {
	input.context.consents
	opted_out
	not breakglass.active
	message := sprintf("the patient opted out of purpose %s", [object.get(input.subject, "purpose_of_use", "")])
}

deny contains {"code": "consent.opt_out", "message": "the patient opted out of research"} if {
	input.subject.purpose_of_use == "HRESCH"
	opted_out
}

deny contains {"code": "consent.research_opt_in", "message": "research needs an active opt-in Consent of the patient"} if {
	input.subject.purpose_of_use == "HRESCH"
	not research_permitted
}

notes contains {"code": "consent.break_glass", "message": "a consent opt-out was overridden under break-glass"} if {
	input.context.consents
	opted_out
	breakglass.active
	input.subject.purpose_of_use != "HRESCH"
}
