// Package kservetest is a loopback server that speaks the Open Inference
// Protocol (KServe v2 REST), for testing the imaging-kserve plugin and for
// benchmarks that compare it with direct calls.
//
// It serves the health routes (/v2/health/live, /v2/health/ready), model
// metadata (/v2/models/{name}), model readiness (/v2/models/{name}/ready)
// and inference (/v2/models/{name}/infer), with the /versions/{version}
// forms. Inference requests are checked against the model's declared
// tensors as a real server checks them. The checks cover input names,
// datatypes, shapes with -1 as a variable dimension, element counts and
// element types. A BYTES input must be a base64 string that decodes to a
// PNG or JPEG image.
//
// The server does not run a neural network. Model.Infer computes the
// outputs; the default turns the mean input intensity into scores, so
// different images get different findings.
package kservetest
