# Sensitivity labels. A resource carrying a sensitive security label (the
# codes in the configuration's sensitive_labels, such as ETH for substance
# use or PSY for psychiatry) is denied unless an active Consent of the
# patient has a matching permit provision that names the label, or a valid
# break-glass overrides it.
package healthhub.labels

import data.healthhub.breakglass
import data.healthhub.consent
import data.healthhub.settings

sensitive contains label.code if {
	some label in input.resource.security_labels
	label.code in settings.sensitive_labels
}

covered(code) if {
	input.context.consents
	some c in consent.applicable
	some provision in consent.permit_provisions(c)
	some coding in provision.securityLabel
	coding.code == code
}

uncovered contains code if {
	some code in sensitive
	not covered(code)
}

deny contains {"code": "labels.sensitive", "message": sprintf("label %s needs a Consent that covers it", [code])} if {
	input.resource.security_labels
	some code in uncovered
	not breakglass.active
}

notes contains {"code": "labels.consented", "message": sprintf("label %s is covered by the patient's Consent", [code])} if {
	input.context.consents
	some code in sensitive
	covered(code)
}

notes contains {"code": "labels.break_glass", "message": sprintf("label %s was overridden under break-glass", [code])} if {
	input.resource.security_labels
	some code in uncovered
	breakglass.active
}
