# Helpers shared by the policy packages: the decision time, FHIR dates and
# the shape of reasons.
#
# The decision rule runs for every request, so the policies keep the common
# path short: each rule body starts with a cheap test on the input (a
# missing field stops it at once), and constants are written in place.
package healthhub.lib

# now_ns is the decision time in nanoseconds since the Unix epoch: the
# request's context.time (RFC 3339) when given, the evaluation time
# otherwise. A malformed context.time is a built-in error, which the hub
# turns into a deny; where built-in errors are not raised, now_ns is
# undefined and every rule that needs it fails closed.
now_ns := time.parse_rfc3339_ns(input.context.time) if input.context.time

now_ns := time.now_ns() if not input.context.time

# fhir_start_ns(d) is the first instant a FHIR date or dateTime d covers:
# "2016" is 2016-01-01T00:00:00Z, "2016-05" is 2016-05-01T00:00:00Z.
fhir_start_ns(d) := time.parse_rfc3339_ns(full_datetime(d))

# fhir_end_ns(d) is the first instant after the span a FHIR date or
# dateTime d covers: "2016" ends at 2017-01-01T00:00:00Z. A dateTime with a
# time of day ends at that instant.
fhir_end_ns(d) := time.add_date(fhir_start_ns(d), 1, 0, 0) if count(d) == 4

fhir_end_ns(d) := time.add_date(fhir_start_ns(d), 0, 1, 0) if count(d) == 7

fhir_end_ns(d) := time.add_date(fhir_start_ns(d), 0, 0, 1) if count(d) == 10

fhir_end_ns(d) := fhir_start_ns(d) if count(d) > 10

full_datetime(d) := concat("", [d, "-01-01T00:00:00Z"]) if count(d) == 4

full_datetime(d) := concat("", [d, "-01T00:00:00Z"]) if count(d) == 7

full_datetime(d) := concat("", [d, "T00:00:00Z"]) if count(d) == 10

full_datetime(d) := d if count(d) > 10

# action and resource_type are the request's action and resource type, or ""
# when missing, for messages.
action := object.get(input, "action", "")

resource_type := object.get(input, ["resource", "type"], "")
