# Patient self-access: a subject with the patient role reaches only the
# records of the patient they are (subject.patient, a reference such as
# "Patient/123").
package healthhub.patient

# own_record is true when the resource belongs to the subject's patient: it
# is that Patient resource, or its patient reference is that patient.
own_record if {
	input.resource.patient == input.subject.patient
	input.subject.patient != ""
}

own_record if {
	input.resource.type == "Patient"
	concat("/", ["Patient", input.resource.id]) == input.subject.patient
}
