// Package refusal is the one way the domain packages (launch, publish, tool) say no to a person: a code for logs
// and JSON clients, what went wrong and how to fix it in plain words, and who can fix it. It knows nothing of
// HTTP: internal/web maps a Kind to a status in one place.
package refusal

// Kind classifies a refusal the way a response status would, without the domain knowing HTTP.
type Kind int

const (
	// Invalid: the request cannot be used as it is (the default).
	Invalid Kind = iota
	// Unauthorized: the request does not prove who or what it claims to be (a state, a signature, a ticket).
	Unauthorized
	// Forbidden: understood, and not allowed (a disabled resource, a closed enrolment).
	Forbidden
	// NotFound: what the request names does not exist.
	NotFound
	// Conflict: the request collides with the current state (a duplicate, the last deployment in use).
	Conflict
	// Gone: what the request names existed and can no longer be used (a used or expired registration URL).
	Gone
	// Upstream: another system (the platform) failed or answered something unusable.
	Upstream
)

// Audience is who can act on the fix.
type Audience string

const (
	// Learner: the person launching can fix it (launch again, open a new window).
	Learner Audience = "learner"
	// Teacher: a teacher (of the course here or in the platform) must change something.
	Teacher Audience = "teacher"
	// Admin: a site or platform administrator must change a registration or a setting.
	Admin Audience = "admin"
)

// Refusal is a request refused for a reason a person can read: Description says what went wrong, Fix what to do,
// Audience who can do it. Err, when set, is the internal cause (logged, never shown).
type Refusal struct {
	Code        string
	Kind        Kind
	Audience    Audience
	Title       string // optional heading of the page that shows it
	Description string
	Fix         string
	// Args are the details Description and Fix name (a course's name, a date), for the translations of the
	// refusal's code: "Name", "Date"…
	Args map[string]any
	Err  error
}

func (r *Refusal) Error() string {
	if r.Err != nil {
		return r.Description + ": " + r.Err.Error()
	}
	return r.Description
}

func (r *Refusal) Unwrap() error { return r.Err }

// With returns r with args (name, value pairs) added to its Args.
func (r *Refusal) With(args ...any) *Refusal {
	if r.Args == nil {
		r.Args = make(map[string]any, len(args)/2)
	}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			r.Args[k] = args[i+1]
		}
	}
	return r
}

// New makes a refusal.
func New(code string, kind Kind, audience Audience, description, fix string) *Refusal {
	return &Refusal{Code: code, Kind: kind, Audience: audience, Description: description, Fix: fix}
}
