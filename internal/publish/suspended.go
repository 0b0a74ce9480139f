package publish

import (
	"fmt"

	"github.com/ltipub/ltipub/internal/account"
)

// CodeAccountSuspended is the refusal of a launch by a person whose account a site administrator suspended.
const CodeAccountSuspended = "account_suspended"

// refuseSuspended refuses a launch that resolved to a suspended account.
func refuseSuspended(u account.User) error {
	if !u.Suspended() {
		return nil
	}
	return refuse(CodeAccountSuspended,
		fmt.Sprintf("Your account on this tool (%s) is suspended, so it cannot open this resource.", u.DisplayName()),
		"Ask the tool's site administrator to lift the suspension; your platform account itself is fine.").With("Name", u.DisplayName())
}
