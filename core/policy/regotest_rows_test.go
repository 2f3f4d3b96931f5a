package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMergeRows(t *testing.T) {
	got := mergeRows([][2]int{{18, 22}, {5, 5}, {18, 18}, {23, 24}, {30, 30}})
	assert.Equal(t, [][2]int{{5, 5}, {18, 24}, {30, 30}}, got)
	assert.Empty(t, mergeRows(nil))
}
