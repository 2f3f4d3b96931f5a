// Package kserveinfer is the imaging provider "imaging-kserve". It sends an
// image to a model server that speaks the Open Inference Protocol, the
// KServe v2 REST API that NVIDIA Triton and Seldon MLServer also serve, and
// turns the model's output into a DiagnosticReport with Observations.
//
// # Image to input tensor
//
// input.encoding selects how the image becomes the input tensor:
//
//   - "bytes" (default): the encoded image file, base64-encoded, as the one
//     element of a BYTES tensor of shape [1]. Any format the model accepts
//     passes through unchanged, DICOM included. The model server decodes
//     it, as KServe's image classifier examples do.
//   - "uint8" and "fp32": the plugin decodes a PNG or JPEG image, resizes it
//     to input.width by input.height with bilinear interpolation, and sends
//     its pixels as a UINT8 or FP32 tensor. input.channels is 3 for RGB or
//     1 for grayscale (ITU-R BT.601 luma). input.layout "NHWC" (default)
//     gives shape [1, height, width, channels], and "NCHW" gives [1,
//     channels, height, width]; input.batch false drops the leading 1. For
//     fp32 each value v in 0..255 becomes (v*scale - mean[c]) / std[c],
//     with scale 1/255, mean 0 and std 1 by default.
//
// # Output tensor to Observations
//
// The output tensor named by output.name (default: the first output) holds
// one score per class, and output.labels gives the code of each class in
// order. output.activation turns scores into probabilities: "none" when
// the model already outputs probabilities, "softmax" for logits of
// exclusive classes, "sigmoid" for independent findings. Each class whose
// probability reaches output.min_probability becomes an Observation coded
// with its label, with the probability as valueQuantity (UCUM unit "1"),
// highest first and at most output.top_k of them. The DiagnosticReport
// refers to them by "urn:uuid:" references to their ids and names the most
// probable class in its conclusion.
//
// Inference requests are POSTs and are never retried. The health and
// metadata GETs are. Images are never logged.
package kserveinfer
