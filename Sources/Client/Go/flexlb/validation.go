package flexlb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError is a request refused before it was sent: every violation of openapi.yaml's
// constraints, each with the JSON path flexlbd would report (errors.Is(err, ErrBadRequest) holds).
type ValidationError struct {
	Violations []Violation
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Path + ": " + v.Message
	}
	return "flexlb: request validation failed: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrBadRequest) true: flexlbd would have answered 400.
func (e *ValidationError) Is(target error) bool { return target == ErrBadRequest }

// Violations returns the violations carried by err: those of a *ValidationError (found by the
// client) or of an *APIError (reported by flexlbd); nil for other errors.
func Violations(err error) []Violation {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Violations
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Violations
	}
	return nil
}

// ValidateJSON checks a JSON document against the named schema of openapi.yaml (for example
// "InstanceConfig") exactly as flexlbd checks a request body, unknown properties and wrong JSON
// types included. It returns a *ValidationError, a JSON syntax error, or nil.
func ValidateJSON(schema string, data []byte) error {
	check := schemaValidator(schema)
	if check == nil {
		return fmt.Errorf("flexlb: no schema %q in openapi.yaml", schema)
	}
	j, err := decodeJSON(data)
	if err != nil {
		return err
	}
	var v validator
	check(&v, j, "$")
	return v.err()
}

func decodeJSON(data []byte) (interface{}, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var j interface{}
	if err := d.Decode(&j); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("flexlb: trailing data after the JSON value")
	}
	return j, nil
}

// validateValue checks a model through its JSON form, so that the paths are the wire's.
func validateValue(m interface{}, check func(*validator, interface{}, string)) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	j, err := decodeJSON(data)
	if err != nil {
		return err
	}
	var v validator
	check(&v, j, "$")
	return v.err()
}

// validator collects violations; its checks mirror flexlbd's (Sources/Generated/Runtime/Checks.swift):
// same order, same paths, same messages.
type validator struct {
	violations []Violation
}

func (v *validator) add(path, message string) {
	v.violations = append(v.violations, Violation{Path: path, Message: message})
}

func (v *validator) err() error {
	if len(v.violations) == 0 {
		return nil
	}
	return &ValidationError{Violations: v.violations}
}

func (v *validator) mismatch(expected string, j interface{}, p string) {
	v.add(p, "expected "+expected+", got "+jsonTypeName(j))
}

func jsonTypeName(j interface{}) string {
	switch x := j.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, ok := integerValue(x); ok {
			return "integer"
		}
		return "number"
	case float64, float32:
		return "number"
	case int, int32, int64:
		return "integer"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return fmt.Sprintf("%T", j)
}

func integerValue(j interface{}) (int64, bool) {
	switch x := j.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, true
		}
		// flexlbd reads 80.0 and 8e1 as the integer 80, as JSON Schema does.
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, false
		}
		return int64(f), true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// key appends a property to a JSON path: `.name`, or `['a b']` for keys that are not plain.
func key(p, k string) string {
	plain := k != ""
	for i := 0; i < len(k) && plain; i++ {
		b := k[i]
		plain = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b == '_' || b == '-'
	}
	if plain {
		return p + "." + k
	}
	escaped := strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `'`, `\'`)
	return p + "['" + escaped + "']"
}

func index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

func sortedKeys(o map[string]interface{}) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (v *validator) object(j interface{}, p string) (map[string]interface{}, bool) {
	o, ok := j.(map[string]interface{})
	if !ok {
		v.mismatch("object", j, p)
	}
	return o, ok
}

// required: missing or null is "is required".
func (v *validator) required(o map[string]interface{}, p, k string) (interface{}, string, bool) {
	path := key(p, k)
	j, ok := o[k]
	if !ok || j == nil {
		v.add(path, "is required")
		return nil, path, false
	}
	return j, path, true
}

// optional: missing or null is absent.
func (v *validator) optional(o map[string]interface{}, p, k string) (interface{}, string, bool) {
	j, ok := o[k]
	return j, key(p, k), ok && j != nil
}

// closed reports every property the schema does not name (additionalProperties: false).
func (v *validator) closed(o map[string]interface{}, p string, known ...string) {
	for _, k := range sortedKeys(o) {
		found := false
		for _, n := range known {
			if n == k {
				found = true
				break
			}
		}
		if !found {
			v.add(key(p, k), "unknown property")
		}
	}
}

type strRules struct {
	minLength    int
	hasMaxLength bool
	maxLength    int
	pattern      *schemaPattern
	ip           bool
}

func (v *validator) str(j interface{}, p string, r strRules) {
	s, ok := j.(string)
	if !ok {
		v.mismatch("string", j, p)
		return
	}
	// Lengths count code points, as JSON Schema does.
	n := utf8.RuneCountInString(s)
	if n < r.minLength {
		v.add(p, fmt.Sprintf("must be at least %d characters long", r.minLength))
	}
	if r.hasMaxLength && n > r.maxLength {
		v.add(p, fmt.Sprintf("must be at most %d characters long", r.maxLength))
	}
	if r.pattern != nil && !r.pattern.matches(s) {
		v.add(p, "must match "+r.pattern.source)
	}
	if r.ip && !isIPAddress(s) {
		v.add(p, "is not a valid IP address")
	}
}

type intRules struct {
	int32      bool
	hasMinimum bool
	minimum    int64
	hasMaximum bool
	maximum    int64
}

func (v *validator) integer(j interface{}, p string, r intRules) {
	i, ok := integerValue(j)
	if !ok {
		v.mismatch("integer", j, p)
		return
	}
	if r.int32 && (i < -1<<31 || i > 1<<31-1) {
		v.add(p, "must be a 32-bit integer")
	}
	if r.hasMinimum && i < r.minimum {
		v.add(p, fmt.Sprintf("must be >= %d", r.minimum))
	}
	if r.hasMaximum && i > r.maximum {
		v.add(p, fmt.Sprintf("must be <= %d", r.maximum))
	}
}

func (v *validator) number(j interface{}, p string) {
	switch j.(type) {
	case json.Number, float64, float32, int, int32, int64:
	default:
		v.mismatch("number", j, p)
	}
}

func (v *validator) boolean(j interface{}, p string) {
	if _, ok := j.(bool); !ok {
		v.mismatch("boolean", j, p)
	}
}

// array: maxItems is checked before any element, and an oversized array's elements are not checked.
func (v *validator) array(j interface{}, p string, minItems, maxItems int) ([]interface{}, bool) {
	items, ok := j.([]interface{})
	if !ok {
		v.mismatch("array", j, p)
		return nil, false
	}
	if maxItems >= 0 && len(items) > maxItems {
		v.add(p, fmt.Sprintf("must have at most %d items", maxItems))
		return nil, false
	}
	if len(items) < minItems {
		v.add(p, fmt.Sprintf("must have at least %d items", minItems))
	}
	return items, true
}

func (v *validator) enum(j interface{}, p string, allowed ...string) {
	s, ok := j.(string)
	if !ok {
		v.mismatch("string", j, p)
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(p, "must be one of "+strings.Join(allowed, ", "))
}

// isIPAddress accepts what flexlbd's inet_pton accepts: IPv4 dotted quad or IPv6, no zone, no space.
func isIPAddress(s string) bool {
	if s == "" || strings.ContainsAny(s, "%\x00 ") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return net.ParseIP(s) != nil
}

// schemaPattern is a pattern of openapi.yaml as RE2 runs it (see GoPattern in the generator): the
// whole string must match `full` and must not match `reject` (a leading negative lookahead).
type schemaPattern struct {
	source string
	full   *regexp.Regexp
	reject *regexp.Regexp
}

func newPattern(source, full, reject string) *schemaPattern {
	p := &schemaPattern{source: source, full: regexp.MustCompile(full)}
	if reject != "" {
		p.reject = regexp.MustCompile(reject)
	}
	return p
}

func (p *schemaPattern) matches(s string) bool {
	return p.full.MatchString(s) && (p.reject == nil || !p.reject.MatchString(s))
}
