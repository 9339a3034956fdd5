package notifyd

import "strings"

// FieldError says what is wrong with one field of a request.
type FieldError struct {
	// Field is a JSON Pointer (RFC 6901) into the request body, such as
	// "/methods/1/address", or "query.<name>" for a query parameter.
	Field string `json:"field"`
	// Detail says what is wrong, in words for the person fixing it.
	Detail string `json:"detail"`
}

// ValidationError lists everything wrong with a request.
type ValidationError []FieldError

// Error joins the field errors.
func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = f.Field + ": " + f.Detail
	}
	return "invalid request: " + strings.Join(parts, "; ")
}
