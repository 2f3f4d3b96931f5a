package healthhub.lib_test

import data.healthhub.lib

test_fhir_dates if {
	every case in [
		["2016", "2016-01-01T00:00:00Z", "2017-01-01T00:00:00Z"],
		["2016-02", "2016-02-01T00:00:00Z", "2016-03-01T00:00:00Z"],
		["2016-02-28", "2016-02-28T00:00:00Z", "2016-02-29T00:00:00Z"],
		["2016-02-28T10:30:00+01:00", "2016-02-28T09:30:00Z", "2016-02-28T09:30:00Z"],
	] {
		[date, start, end] := case
		lib.fhir_start_ns(date) == time.parse_rfc3339_ns(start)
		lib.fhir_end_ns(date) == time.parse_rfc3339_ns(end)
	}
}

test_now_from_context if {
	lib.now_ns == time.parse_rfc3339_ns("2025-03-04T10:00:00Z") with input as {"context": {"time": "2025-03-04T10:00:00Z"}}
}

test_now_without_context if {
	lib.now_ns >= time.parse_rfc3339_ns("2025-01-01T00:00:00Z") with input as {}
}

test_message_fields if {
	lib.action == "" with input as {}
	lib.resource_type == "" with input as {}
	lib.resource_type == "Observation" with input as {"resource": {"type": "Observation"}}
}
