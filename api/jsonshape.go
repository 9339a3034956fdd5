package api

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/notifyd/notifyd"
)

// shapeLimits bound the structure of a JSON request body before it is
// validated against its schema, so that the validator's work (one error
// per offending value, with kin-openapi's MultiError) is bounded by these
// numbers, not by the body's size.
type shapeLimits struct {
	// Depth is the deepest nesting of objects and arrays.
	Depth int
	// Items is the longest array.
	Items int
	// Members is the largest object.
	Members int
	// Values is the number of values in the whole body.
	Values int
}

// defaultShape admits every body the contract describes: the longest
// array it allows is a ping's 1000 hrefs, its largest object has a dozen
// members, and its deepest body (a subscription) nests four levels.
var defaultShape = shapeLimits{Depth: 16, Items: 1000, Members: 64, Values: 4 * 1000}

// shapeFrame is an open object or array while checkShape scans.
type shapeFrame struct {
	array bool
	// count is the number of members or items seen so far.
	count int
	// key is the offsets of the current member's quoted name in an object.
	keyStart, keyEnd int
}

// checkShape scans b, which must be valid JSON (json.Valid), and returns
// the first place it exceeds lim, as a field error naming it, or nil. It
// reads b once and allocates only for the error.
func checkShape(b []byte, lim shapeLimits) *notifyd.FieldError {
	stack := make([]shapeFrame, 0, lim.Depth)
	values := 0
	expectKey := false
	// value counts one value starting at the current position.
	value := func() *notifyd.FieldError {
		values++
		if values > lim.Values {
			return &notifyd.FieldError{Field: "", Detail: fmt.Sprintf("the body has more than %d values", lim.Values)}
		}
		if n := len(stack); n > 0 && stack[n-1].array {
			stack[n-1].count++
			if stack[n-1].count > lim.Items {
				return &notifyd.FieldError{Field: shapePointer(b, stack[:n-1]), Detail: fmt.Sprintf("has more than %d items", lim.Items)}
			}
		}
		return nil
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case ' ', '\t', '\r', '\n', ':':
		case ',':
			if n := len(stack); n > 0 && !stack[n-1].array {
				expectKey = true
			}
		case '"':
			start := i
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if expectKey {
				expectKey = false
				top := &stack[len(stack)-1]
				top.keyStart, top.keyEnd = start, i+1
				top.count++
				if top.count > lim.Members {
					return &notifyd.FieldError{Field: shapePointer(b, stack[:len(stack)-1]), Detail: fmt.Sprintf("has more than %d members", lim.Members)}
				}
				continue
			}
			if err := value(); err != nil {
				return err
			}
		case '{', '[':
			if err := value(); err != nil {
				return err
			}
			if len(stack) == lim.Depth {
				return &notifyd.FieldError{Field: shapePointer(b, stack), Detail: fmt.Sprintf("nests objects and arrays more than %d deep", lim.Depth)}
			}
			stack = append(stack, shapeFrame{array: c == '['})
			expectKey = c == '{'
		case '}', ']':
			stack = stack[:len(stack)-1]
			expectKey = false
		default: // a number, true, false or null
			if err := value(); err != nil {
				return err
			}
			for i+1 < len(b) && !isJSONDelimiter(b[i+1]) {
				i++
			}
		}
	}
	return nil
}

func isJSONDelimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// shapePointer is the JSON Pointer of the value the innermost of frames
// is at: its current item's index, or its current member's name.
func shapePointer(b []byte, frames []shapeFrame) string {
	path := make([]string, 0, len(frames))
	for _, f := range frames {
		if f.array {
			path = append(path, strconv.Itoa(f.count-1))
			continue
		}
		var name string
		if json.Unmarshal(b[f.keyStart:f.keyEnd], &name) != nil {
			name = string(b[f.keyStart+1 : f.keyEnd-1])
		}
		path = append(path, name)
	}
	return pointer(path)
}
