// Package examples holds the example files of the repository, embedded, so that commands such as `ltipub demo`
// work from any directory and from an installed binary.
package examples

import _ "embed"

// Course is examples/course.json, the example course (docs/course-format.md).
//
//go:embed course.json
var Course []byte
