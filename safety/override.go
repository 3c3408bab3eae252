package safety

import "fmt"

// Override lets one refusal code through for one operation. There is no
// blanket override: each code is named, with the operator's reason, and the
// override is journaled.
type Override struct {
	Code   Code   `json:"code"`
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"` // who decided, for the audit trail
}

func (o Override) validate() error {
	if o.Code == "" || o.Reason == "" {
		return fmt.Errorf("%w: an override needs a code and a reason", ErrInvalid)
	}
	if !o.Code.Overridable() {
		return fmt.Errorf("%w: %s cannot be overridden", ErrInvalid, o.Code)
	}
	return nil
}
