package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd"
)

// contract validates requests against openapi.yaml.
type contract struct {
	doc     *openapi3.T
	options *openapi3filter.Options
}

func loadContract() (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(notifyd.OpenAPISpec)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return &contract{doc: doc, options: &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		KeepValidatedValue:  true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	}}, nil
}

// route finds the operation for a gin route ("/v1/subscriptions/:id").
func (ct *contract) route(method, ginPath string) (*routers.Route, error) {
	specPath := ginPath
	for _, seg := range strings.Split(ginPath, "/") {
		if strings.HasPrefix(seg, ":") {
			specPath = strings.Replace(specPath, seg, "{"+seg[1:]+"}", 1)
		}
	}
	item := ct.doc.Paths.Find(specPath)
	if item == nil || item.GetOperation(method) == nil {
		return nil, fmt.Errorf("openapi.yaml has no operation %s %s", method, specPath)
	}
	return &routers.Route{Spec: ct.doc, Path: specPath, PathItem: item, Method: method, Operation: item.GetOperation(method)}, nil
}

// validator returns the middleware that checks a request against route:
// body size, media type, then parameters and body against the schemas.
// authenticate, if not nil, runs once the body is read and before it is
// validated (a ping carries its credentials in its body); it answers and
// aborts when it refuses the request.
func (ct *contract) validator(route *routers.Route, maxBody int64, authenticate gin.HandlerFunc) gin.HandlerFunc {
	var mediaTypes []string
	bodyRequired := false
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil {
		bodyRequired = rb.Value.Required
		for mt := range rb.Value.Content {
			mediaTypes = append(mediaTypes, mt)
		}
	}
	// A path the parameters refuse names nothing: 404, as the operation
	// documents it (an HTML page for the unsubscribe page, else a problem).
	notFound := notFoundProblem
	if r := route.Operation.Responses.Status(http.StatusNotFound); r != nil && r.Value != nil &&
		r.Value.Content.Get("text/html") != nil && r.Value.Content.Get("application/problem+json") == nil {
		notFound = invalidLinkPage
	}
	return func(c *gin.Context) {
		req := c.Request
		if len(mediaTypes) > 0 && (bodyRequired || req.ContentLength != 0) {
			if req.ContentLength > maxBody {
				tooLarge(c, maxBody)
				return
			}
			mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
			if err != nil || !contains(mediaTypes, mt) {
				writeProblem(c, Problem{Type: ProblemUnsupportedMediaType, Title: "Unsupported media type",
					Status: http.StatusUnsupportedMediaType,
					Detail: "Send the body as " + strings.Join(mediaTypes, " or ") + "."})
				return
			}
			body, ok := readBody(c, maxBody)
			if !ok {
				return
			}
			c.Set(ctxBody, body)
		}
		if authenticate != nil {
			if authenticate(c); c.IsAborted() {
				return
			}
		}
		if body, ok := c.Value(ctxBody).([]byte); ok && json.Valid(body) {
			if fe := checkShape(body, defaultShape); fe != nil {
				badRequest(c, "The body is larger than any valid request; see errors.", *fe)
				return
			}
		}
		params := make(map[string]string, len(c.Params))
		for _, p := range c.Params {
			params[p.Key] = p.Value
		}
		err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: ct.options,
		})
		if err != nil {
			writeValidationProblem(c, err, notFound)
			return
		}
		// KeepValidatedValue left the decoded body on the request: the
		// handler takes it instead of decoding the body again.
		if v, ok := req.Body.(interface{ ValidatedValue() any }); ok {
			c.Set(ctxValidated, v.ValidatedValue())
		}
		c.Next()
	}
}

// readBody reads the request body, at most maxBody bytes, and puts it back
// for whoever reads next; on failure it has answered with a problem.
func readBody(c *gin.Context, maxBody int64) ([]byte, bool) {
	req := c.Request
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, req.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge(c, maxBody)
			return nil, false
		}
		badRequest(c, "The request body could not be read: "+err.Error())
		return nil, false
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return body, true
}

func tooLarge(c *gin.Context, maxBody int64) {
	writeProblem(c, Problem{Type: ProblemBodyTooLarge, Title: "Request body too large", Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("The body is larger than %d bytes; split it into several requests.", maxBody)})
}

func notFoundProblem(c *gin.Context) {
	writeProblem(c, Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "No such resource."})
}

// writeValidationProblem turns kin-openapi's errors into one problem that
// names every offending field; notFound answers a request whose path
// parameters alone are refused.
func writeValidationProblem(c *gin.Context, err error, notFound gin.HandlerFunc) {
	var fields []notifyd.FieldError
	var malformed string
	var walk func(error)
	walk = func(err error) {
		// A parameter's error wraps its schema errors (a MultiError, which
		// the cases below would unwrap and lose the parameter's name).
		if re, ok := err.(*openapi3filter.RequestError); ok && re.Parameter != nil {
			fields = append(fields, notifyd.FieldError{Field: re.Parameter.In + "." + re.Parameter.Name, Detail: paramDetail(re)})
			return
		}
		var multi openapi3.MultiError
		var reqErr *openapi3filter.RequestError
		var parseErr *openapi3filter.ParseError
		var schemaErr *openapi3.SchemaError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e)
			}
		case errors.As(err, &reqErr) && reqErr.Parameter != nil:
			fields = append(fields, notifyd.FieldError{
				Field:  reqErr.Parameter.In + "." + reqErr.Parameter.Name,
				Detail: paramDetail(reqErr),
			})
		case errors.As(err, &parseErr):
			malformed = "The body is not valid JSON: " + jsonReason(parseErr)
		case errors.As(err, &schemaErr):
			fields = append(fields, schemaField(schemaErr))
		case errors.Is(err, openapi3filter.ErrInvalidRequired):
			fields = append(fields, notifyd.FieldError{Field: "", Detail: "a JSON body is required"})
		case errors.As(err, &reqErr) && reqErr.Err != nil && reqErr.Err != err:
			walk(reqErr.Err)
		default:
			fields = append(fields, notifyd.FieldError{Field: "", Detail: err.Error()})
		}
	}
	walk(err)
	if malformed != "" {
		writeProblem(c, Problem{Type: ProblemMalformedJSON, Title: "Malformed JSON", Status: http.StatusBadRequest, Detail: malformed})
		return
	}
	// A path the contract's parameters refuse (an id too long to be one)
	// names no resource: 404, which every operation with a path parameter
	// documents, unlike 400.
	pathOnly := len(fields) > 0
	for _, f := range fields {
		pathOnly = pathOnly && strings.HasPrefix(f.Field, "path.")
	}
	if pathOnly {
		notFound(c)
		return
	}
	badRequest(c, "Some fields are not valid; see errors.", fields...)
}

// schemaField names the field a schema error is about. kin-openapi points
// an unknown property at its parent object; name the property itself.
// kin-openapi reports an unknown property under "properties" (older
// releases: "additionalProperties").
func schemaField(e *openapi3.SchemaError) notifyd.FieldError {
	path := e.JSONPointer()
	if e.SchemaField == "additionalProperties" ||
		e.SchemaField == "properties" && strings.HasSuffix(e.Reason, " is unsupported") {
		if name, ok := quoted(e.Reason); ok {
			return notifyd.FieldError{Field: pointer(append(path, name)), Detail: "is not a known field"}
		}
	}
	return notifyd.FieldError{Field: pointer(path), Detail: e.Reason}
}

// quoted returns the first double-quoted string in s.
func quoted(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false
	}
	v, err := strconv.Unquote(s[i : i+1+strings.IndexByte(s[i+1:], '"')+1])
	return v, err == nil
}

func paramDetail(e *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(e.Err, &se) {
		return se.Reason
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Reason
}

func jsonReason(e *openapi3filter.ParseError) string {
	if e.Cause != nil {
		return e.Cause.Error()
	}
	return e.Reason
}

// pointer builds an RFC 6901 JSON Pointer.
func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
