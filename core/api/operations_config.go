package api

import (
	"time"

	"github.com/healthhub/healthhub/core/units"
)

// Defaults of OperationsConfig.
const (
	DefaultAsyncAudioBytes      = 10 << 20
	DefaultAsyncAudioDuration   = 2 * time.Minute
	DefaultChatContextResources = 20
	DefaultChatContextBytes     = 256 << 10
	DefaultChatTimeout          = 10 * time.Minute
	DefaultEHRPageSize          = 100
)

// DefaultChatContextTypes are the resource types the hub adds to a chat
// about a patient, besides the Patient.
var DefaultChatContextTypes = []string{"Condition", "AllergyIntolerance", "MedicationRequest", "Observation", "Procedure", "Immunization"}

// DefaultEHRImportTypes are the resource types an EHR import searches for
// the patient, besides the Patient.
var DefaultEHRImportTypes = []string{"AllergyIntolerance", "Condition", "DiagnosticReport", "DocumentReference", "Encounter", "Immunization", "MedicationRequest", "Observation", "Procedure"}

// OperationsConfig is the operations section of the hub configuration:
// which provider serves each operation when a request names none, and when
// an operation runs as a background job.
type OperationsConfig struct {
	// Transcription, Chat, Imaging and Study name the provider of each
	// operation when a request names none. Default: the first loaded
	// provider of the kind (for Study, the first with the study
	// capability).
	Transcription string `json:"transcription,omitempty"`
	Chat          string `json:"chat,omitempty"`
	Imaging       string `json:"imaging,omitempty"`
	Study         string `json:"study,omitempty"`
	// AsyncAudioBytes is the audio size from which a transcription runs
	// as a background job. Default 10MiB.
	AsyncAudioBytes units.ByteSize `json:"async_audio_bytes,omitempty"`
	// AsyncAudioDuration is the WAV audio length from which a
	// transcription runs as a background job. Default 2m.
	AsyncAudioDuration units.Duration `json:"async_audio_duration,omitempty"`
	// ChatTimeout bounds a chat request, streamed replies included.
	// Default 10m.
	ChatTimeout units.Duration `json:"chat_timeout,omitempty"`
	// ChatContextTypes are the resource types added to a chat about a
	// patient, besides the Patient. Default Condition,
	// AllergyIntolerance, MedicationRequest, Observation, Procedure,
	// Immunization.
	ChatContextTypes []string `json:"chat_context_types,omitempty"`
	// ChatContextResources caps the resources of each type in a chat's
	// patient context, newest first. Default 20.
	ChatContextResources int `json:"chat_context_resources,omitempty"`
	// ChatContextBytes caps the patient context's JSON in bytes; the
	// resources that do not fit are left out. Default 256KiB.
	ChatContextBytes units.ByteSize `json:"chat_context_bytes,omitempty"`
	// EHRImportTypes are the resource types an EHR import searches for the
	// patient, besides the Patient. Default AllergyIntolerance, Condition,
	// DiagnosticReport, DocumentReference, Encounter, Immunization,
	// MedicationRequest, Observation, Procedure.
	EHRImportTypes []string `json:"ehr_import_types,omitempty"`
	// EHRPageSize is the _count of an import's searches. Default 100.
	EHRPageSize int `json:"ehr_page_size,omitempty"`
}

func (c OperationsConfig) chatContextTypes() []string {
	if len(c.ChatContextTypes) > 0 {
		return c.ChatContextTypes
	}
	return DefaultChatContextTypes
}

func (c OperationsConfig) ehrImportTypes() []string {
	if len(c.EHRImportTypes) > 0 {
		return c.EHRImportTypes
	}
	return DefaultEHRImportTypes
}

func orInt(v, fallback int) int {
	if v > 0 {
		return v
	}
	return fallback
}
