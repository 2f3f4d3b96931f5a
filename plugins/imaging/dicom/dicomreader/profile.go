package dicomreader

import "github.com/suyashkumar/dicom/pkg/tag"

// profileAction is an action code of PS3.15 Table E.1-1.
type profileAction int

// Action codes. The combined codes choose by the attribute's type in the
// IOD (1, 2 or 3), which the attribute alone does not give. Each is
// resolved to the choice that is conformant for every type and keeps no
// identifying value (see resolve).
const (
	// actionKeep (K) keeps the value; the items of a sequence are
	// de-identified in turn.
	actionKeep profileAction = iota
	// actionRemove (X) removes the attribute.
	actionRemove
	// actionZero (Z) replaces the value with an empty one.
	actionZero
	// actionDummy (D) replaces the value with a dummy of the same VR.
	actionDummy
	// actionUID (U) replaces each UID with a new one, the same new UID for
	// the same old UID throughout the object.
	actionUID
	// actionRemoveOrZero is X/Z.
	actionRemoveOrZero
	// actionRemoveOrDummy is X/D.
	actionRemoveOrDummy
	// actionZeroOrDummy is Z/D.
	actionZeroOrDummy
	// actionRemoveZeroOrDummy is X/Z/D.
	actionRemoveZeroOrDummy
	// actionCleanUIDs is X/Z/U*: the sequence is kept and the instance
	// UIDs it contains are replaced.
	actionCleanUIDs
)

// resolve reduces a combined action code to a single action. X/Z becomes Z
// and X/D, Z/D and X/Z/D become D: an empty or dummy value is allowed where
// the attribute is optional and required where it is not. For a sequence,
// D means a single empty item and X/Z/D means an empty sequence, since a
// dummy item can carry nothing the IOD requires. X/Z/U* keeps the sequence
// and cleans its items.
func (a profileAction) resolve(isSequence bool) profileAction {
	switch a {
	case actionRemoveOrZero:
		return actionZero
	case actionRemoveOrDummy, actionZeroOrDummy:
		return actionDummy
	case actionRemoveZeroOrDummy:
		if isSequence {
			return actionZero
		}
		return actionDummy
	case actionCleanUIDs:
		return actionKeep
	}
	return a
}

// profileActionFor returns the Basic Profile action for an attribute, and
// false for an attribute the profile does not list, which is kept.
func profileActionFor(t tag.Tag) (profileAction, bool) {
	switch {
	case t.Group%2 == 1:
		// Private attributes, with their private creators.
		return actionRemove, true
	case t.Group&0xFF00 == 0x5000:
		// Curve data, a retired repeating group.
		return actionRemove, true
	case t.Group&0xFF00 == 0x6000 && (t.Element == 0x3000 || t.Element == 0x4000):
		// Overlay data and overlay comments.
		return actionRemove, true
	}
	action, ok := basicProfile[t]
	return action, ok
}

// Dummy values of the D action, by VR. They are valid for their VR and
// carry no information.
const (
	dummyText     = "ANONYMIZED"
	dummyDate     = "19000101"
	dummyTime     = "000000"
	dummyDateTime = "19000101000000"
	dummyAge      = "000Y"
	dummyNumber   = "0"
)

// dummyValue returns the dummy value of the D action for a VR, in the
// form dicom.NewValue takes. UIDs are not dummies but new UIDs; the caller
// handles UI.
func dummyValue(vr string) any {
	switch vr {
	case "DA":
		return []string{dummyDate}
	case "TM":
		return []string{dummyTime}
	case "DT":
		return []string{dummyDateTime}
	case "AS":
		return []string{dummyAge}
	case "IS", "DS":
		return []string{dummyNumber}
	case "AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT":
		return []string{dummyText}
	case "US", "SS", "UL", "SL":
		return []int{0}
	case "AT":
		return []int{0, 0}
	case "FL", "FD":
		return []float64{0}
	case "OB", "OW", "UN":
		return []byte{0, 0}
	default:
		// The other binary VRs (OD, OF, OL) are read as raw strings, and
		// an empty value is the safe dummy for them.
		return emptyValue(vr)
	}
}

// emptyValue returns the empty value of the Z action for a VR, in the form
// dicom.NewValue takes.
func emptyValue(vr string) any {
	switch vr {
	case "US", "SS", "UL", "SL", "AT":
		return []int{}
	case "FL", "FD":
		return []float64{}
	case "OB", "OW", "UN":
		return []byte{}
	default:
		return []string{""}
	}
}
