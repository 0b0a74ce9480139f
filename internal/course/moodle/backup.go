package moodle

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/course"
)

// Skipped is an activity of a backup that ltipub has no type for.
type Skipped struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Section is a section of the backup's course, with the names of its activities, in order. ltipub courses have
// no sections: activities are imported in section order.
type Section struct {
	Number     int      `json:"number"`
	Name       string   `json:"name"`
	Activities []string `json:"activities"`
}

// Backup is what a Moodle course backup converts to.
type Backup struct {
	File     course.File
	Sections []Section
	Skipped  []Skipped
	// Notes say what of a converted activity ltipub does not keep (file submissions, time limits…).
	Notes []string
	// Sources names, for each activity of File, the archive folder it came from.
	Sources []string
}

// MaxImage is the largest image kept in a page (as a data: URL in its Markdown).
const MaxImage = 2 << 20

func (a archive) xml(name string, v any) error {
	data, ok := a[name]
	if !ok {
		return &Error{File: name, Message: "is missing from the backup"}
	}
	if err := checkXML(data); err != nil {
		e := err.(*Error)
		e.File = name
		return e
	}
	if err := xml.Unmarshal(data, v); err != nil {
		e := xmlSyntax(err).(*Error)
		e.File = name
		return e
	}
	return nil
}

type mbIndex struct {
	Info struct {
		Release    string `xml:"moodle_release"`
		Activities []struct {
			ModuleID  string `xml:"moduleid"`
			SectionID string `xml:"sectionid"`
			Module    string `xml:"modulename"`
			Title     string `xml:"title"`
			Directory string `xml:"directory"`
		} `xml:"contents>activities>activity"`
		Sections []struct {
			SectionID string `xml:"sectionid"`
			Title     string `xml:"title"`
			Directory string `xml:"directory"`
		} `xml:"contents>sections>section"`
		Details []struct {
			Type string `xml:"type"`
		} `xml:"details>detail"`
	} `xml:"information"`
}

type mbFile struct {
	Hash      string `xml:"contenthash"`
	ContextID string `xml:"contextid"`
	Component string `xml:"component"`
	FileArea  string `xml:"filearea"`
	FilePath  string `xml:"filepath"`
	FileName  string `xml:"filename"`
	MimeType  string `xml:"mimetype"`
}

// ReadBackup converts a Moodle 2+ course backup (.mbz, as Moodle 4.x writes it) into a course file: the course,
// its pages (HTML converted to Markdown, images kept as data: URLs), quizzes with their questions from the
// question bank and their settings, and assignments, in section order. Every other activity is listed in
// Skipped. Nothing is stored here; the caller imports the File in one transaction.
func ReadBackup(data []byte, lim Limits) (*Backup, error) {
	a, err := readArchive(data, lim)
	if err != nil {
		return nil, err
	}
	var idx mbIndex
	if err := a.xml("moodle_backup.xml", &idx); err != nil {
		if e, ok := err.(*Error); ok && strings.Contains(e.Message, "missing") {
			e.Message = "is missing: this is not a Moodle 2 or later backup (Moodle 1.9 backups are not read)"
		}
		return nil, err
	}
	for _, d := range idx.Info.Details {
		if d.Type != "" && d.Type != "course" {
			return nil, &Error{File: "moodle_backup.xml", Where: "moodle_backup/information/details/detail/type",
				Message: fmt.Sprintf("this is a backup of one %s, not of a course: back up the whole course in Moodle", d.Type)}
		}
	}
	var c struct {
		FullName  string `xml:"fullname"`
		ShortName string `xml:"shortname"`
		Summary   string `xml:"summary"`
		Visible   string `xml:"visible"`
	}
	if err := a.xml("course/course.xml", &c); err != nil {
		return nil, err
	}
	var files struct {
		Files []mbFile `xml:"file"`
	}
	if _, ok := a["files.xml"]; ok {
		if err := a.xml("files.xml", &files); err != nil {
			return nil, err
		}
	}
	bank, err := readQuestionBank(a)
	if err != nil {
		return nil, err
	}

	visible := c.Visible != "0"
	b := &Backup{File: course.File{Format: course.FormatVersion, Course: course.FileCourse{FullName: strings.TrimSpace(c.FullName),
		ShortName: strings.TrimSpace(c.ShortName), Summary: PlainText(c.Summary), Visible: &visible}, Activities: []course.FileActivity{}}}

	// Sections in their number order; each lists its activities (by module id) in order.
	type sec struct {
		Number   int    `xml:"number"`
		Name     string `xml:"name"`
		Sequence string `xml:"sequence"`
		id       string
	}
	var secs []sec
	for _, s := range idx.Info.Sections {
		var x sec
		if err := a.xml(s.Directory+"/section.xml", &x); err != nil {
			return nil, err
		}
		x.id = s.SectionID
		secs = append(secs, x)
	}
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].Number < secs[j].Number })
	acts := map[string]int{}
	for i, ac := range idx.Info.Activities {
		acts[ac.ModuleID] = i
	}
	done := map[string]bool{}
	var order []int
	for _, s := range secs {
		name := strings.TrimSpace(s.Name)
		if name == "" || name == "$@NULL@$" {
			if s.Number == 0 {
				name = "General"
			} else {
				name = "Section " + strconv.Itoa(s.Number)
			}
		}
		section := Section{Number: s.Number, Name: name, Activities: []string{}}
		for _, id := range strings.Split(s.Sequence, ",") {
			id = strings.TrimSpace(id)
			if i, ok := acts[id]; ok && !done[id] {
				done[id] = true
				order = append(order, i)
				section.Activities = append(section.Activities, idx.Info.Activities[i].Title)
			}
		}
		b.Sections = append(b.Sections, section)
	}
	for i, ac := range idx.Info.Activities { // activities no section lists, at the end
		if !done[ac.ModuleID] {
			order = append(order, i)
		}
	}

	for _, i := range order {
		ac := idx.Info.Activities[i]
		dir := ac.Directory
		var mod struct {
			Visible string `xml:"visible"`
		}
		if _, ok := a[dir+"/module.xml"]; ok {
			if err := a.xml(dir+"/module.xml", &mod); err != nil {
				return nil, err
			}
		}
		vis := mod.Visible != "0"
		var fa *course.FileActivity
		var err error
		switch ac.Module {
		case "page":
			fa, err = b.page(a, dir, files.Files)
		case "quiz":
			fa, err = b.quiz(a, dir, bank)
			if errors.Is(err, errNoQuestions) {
				b.Skipped = append(b.Skipped, Skipped{Name: ac.Title, Type: "quiz"})
				b.Notes = append(b.Notes, fmt.Sprintf("quiz %q has no question of a type ltipub has: skipped", ac.Title))
				continue
			}
		case "assign":
			fa, err = b.assignment(a, dir)
		default:
			b.Skipped = append(b.Skipped, Skipped{Name: ac.Title, Type: ac.Module})
			continue
		}
		if err != nil {
			return nil, err
		}
		fa.Visible = &vis
		b.File.Activities = append(b.File.Activities, *fa)
		b.Sources = append(b.Sources, dir)
	}
	return b, nil
}

func (b *Backup) page(a archive, dir string, files []mbFile) (*course.FileActivity, error) {
	var x struct {
		ContextID string `xml:"contextid,attr"`
		Page      struct {
			Name    string `xml:"name"`
			Intro   string `xml:"intro"`
			Content string `xml:"content"`
		} `xml:"page"`
	}
	if err := a.xml(dir+"/page.xml", &x); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(x.Page.Name)
	images := func(src string) string {
		rest, ok := strings.CutPrefix(src, "@@PLUGINFILE@@")
		if !ok {
			return src
		}
		want := rest
		if i := strings.IndexAny(want, "?#"); i >= 0 {
			want = want[:i]
		}
		for _, f := range files {
			if f.ContextID != x.ContextID || f.Component != "mod_page" || f.FileArea != "content" || f.FilePath+f.FileName != unescapePath(want) {
				continue
			}
			if !strings.HasPrefix(f.MimeType, "image/") || len(f.Hash) < 2 {
				break
			}
			body, ok := a["files/"+f.Hash[:2]+"/"+f.Hash]
			if !ok {
				b.Notes = append(b.Notes, fmt.Sprintf("page %q: image %s is not in the backup (backed up without files?), only its description is kept", name, f.FileName))
				return ""
			}
			if len(body) > MaxImage {
				b.Notes = append(b.Notes, fmt.Sprintf("page %q: image %s is over %d MiB and was left out", name, f.FileName, MaxImage>>20))
				return ""
			}
			return "data:" + f.MimeType + ";base64," + base64.StdEncoding.EncodeToString(body)
		}
		b.Notes = append(b.Notes, fmt.Sprintf("page %q: %s is not an image of the page in the backup, left out", name, rest))
		return ""
	}
	return &course.FileActivity{Type: course.TypePage, Name: name, Description: PlainText(x.Page.Intro),
		Body: HTMLToMarkdown(x.Page.Content, images)}, nil
}

func unescapePath(p string) string {
	r := strings.NewReplacer("%20", " ", "%28", "(", "%29", ")", "%27", "'")
	return r.Replace(p)
}

func (b *Backup) assignment(a archive, dir string) (*course.FileActivity, error) {
	var x struct {
		Assign struct {
			Name    string `xml:"name"`
			Intro   string `xml:"intro"`
			DueDate int64  `xml:"duedate"`
			Cutoff  int64  `xml:"cutoffdate"`
			Grade   string `xml:"grade"`
			Configs []struct {
				Plugin  string `xml:"plugin"`
				Subtype string `xml:"subtype"`
				Name    string `xml:"name"`
				Value   string `xml:"value"`
			} `xml:"plugin_configs>plugin_config"`
		} `xml:"assign"`
	}
	if err := a.xml(dir+"/assign.xml", &x); err != nil {
		return nil, err
	}
	as := x.Assign
	name := strings.TrimSpace(as.Name)
	fa := &course.FileActivity{Type: course.TypeAssignment, Name: name, Description: PlainText(as.Intro)}
	g, _ := strconv.ParseFloat(strings.TrimSpace(as.Grade), 64)
	if g <= 0 {
		// A negative grade is a Moodle scale; 0 is "no grade". ltipub grades out of a number.
		b.Notes = append(b.Notes, fmt.Sprintf("assignment %q: graded with a scale or not graded in Moodle; imported out of 100", name))
		g = 100
	}
	fa.MaxGrade = g
	if as.DueDate > 0 {
		fa.Due = time.Unix(as.DueDate, 0).UTC().Format(time.RFC3339)
	}
	if as.Cutoff > 0 {
		fa.Cutoff = time.Unix(as.Cutoff, 0).UTC().Format(time.RFC3339)
	}
	// Submission plugins: online text and file map to ltipub's submission types, with the file plugin's count
	// and per-file size (0 in Moodle: the site's limit, here ltipub's default).
	cfg := map[string]string{}
	for _, c := range as.Configs {
		if c.Subtype == "assignsubmission" {
			cfg[c.Plugin+"."+c.Name] = strings.TrimSpace(c.Value)
		}
	}
	text, file := cfg["onlinetext.enabled"] == "1", cfg["file.enabled"] == "1"
	switch {
	case file && text:
		fa.SubmissionTypes = []course.SubmissionType{course.SubmitText, course.SubmitFile}
	case file:
		fa.SubmissionTypes = []course.SubmissionType{course.SubmitFile}
	case !text:
		b.Notes = append(b.Notes, fmt.Sprintf("assignment %q: no online text or file submissions in Moodle; students submit online text", name))
	}
	if file {
		if n, err := strconv.Atoi(cfg["file.maxfilesubmissions"]); err == nil && n > 0 {
			if n > course.MaxFilesCap {
				b.Notes = append(b.Notes, fmt.Sprintf("assignment %q: %d files per submission in Moodle; ltipub takes at most %d", name, n, course.MaxFilesCap))
				n = course.MaxFilesCap
			}
			fa.MaxFiles = n
		}
		if n, err := strconv.ParseInt(cfg["file.maxsubmissionsizebytes"], 10, 64); err == nil && n > 0 {
			if n > course.MaxFileBytesCap {
				b.Notes = append(b.Notes, fmt.Sprintf("assignment %q: files up to %s in Moodle; ltipub takes at most %s", name,
					course.FormatBytes(n), course.FormatBytes(course.MaxFileBytesCap)))
				n = course.MaxFileBytesCap
			}
			fa.MaxFileBytes = n
		}
		if types := cfg["file.filetypeslist"]; types != "" {
			b.Notes = append(b.Notes, fmt.Sprintf("assignment %q: the accepted file types (%s) are not kept; any file type is taken", name, types))
		}
	}
	if text && cfg["onlinetext.wordlimitenabled"] == "1" {
		b.Notes = append(b.Notes, fmt.Sprintf("assignment %q: the word limit (%s) is not kept", name, cfg["onlinetext.wordlimit"]))
	}
	return fa, nil
}

type bankQuestion struct {
	Name            string `xml:"name"`
	QuestionText    string `xml:"questiontext"`
	QuestionFormat  string `xml:"questiontextformat"`
	GeneralFeedback string `xml:"generalfeedback"`
	GeneralFormat   string `xml:"generalfeedbackformat"`
	DefaultMark     string `xml:"defaultmark"`
	QType           string `xml:"qtype"`
	Answers         []struct {
		ID         string `xml:"id,attr"`
		Text       string `xml:"answertext"`
		Format     string `xml:"answerformat"`
		Fraction   string `xml:"fraction"`
		Feedback   string `xml:"feedback"`
		FeedbackFm string `xml:"feedbackformat"`
	} `xml:"plugin_qtype_multichoice_question>answers>answer"`
	TFAnswers []bankAnswer `xml:"plugin_qtype_truefalse_question>answers>answer"`
	TF        struct {
		True  string `xml:"trueanswer"`
		False string `xml:"falseanswer"`
	} `xml:"plugin_qtype_truefalse_question>truefalse"`
	Single     string       `xml:"plugin_qtype_multichoice_question>multichoice>single"`
	SAAnswers  []bankAnswer `xml:"plugin_qtype_shortanswer_question>answers>answer"`
	UseCase    string       `xml:"plugin_qtype_shortanswer_question>shortanswer>usecase"`
	NumAnswers []bankAnswer `xml:"plugin_qtype_numerical_question>answers>answer"`
	NumRecords []struct {
		Answer    string `xml:"answer"`
		Tolerance string `xml:"tolerance"`
	} `xml:"plugin_qtype_numerical_question>numerical_records>numerical_record"`
	NumUnits []struct {
		Multiplier string `xml:"multiplier"`
		Unit       string `xml:"unit"`
	} `xml:"plugin_qtype_numerical_question>numerical_units>numerical_unit"`
	Matches []struct {
		Text   string `xml:"questiontext"`
		Format string `xml:"questiontextformat"`
		Answer string `xml:"answertext"`
	} `xml:"plugin_qtype_match_question>matches>match"`
	GraderInfo   string `xml:"plugin_qtype_essay_question>essay>graderinfo"`
	GraderFormat string `xml:"plugin_qtype_essay_question>essay>graderinfoformat"`
}

type bankAnswer struct {
	ID         string `xml:"id,attr"`
	Text       string `xml:"answertext"`
	Format     string `xml:"answerformat"`
	Fraction   string `xml:"fraction"`
	Feedback   string `xml:"feedback"`
	FeedbackFm string `xml:"feedbackformat"`
}

type bankEntry struct {
	ID       string `xml:"id,attr"`
	IDNumber string `xml:"idnumber"`
	Versions []struct {
		Version   int            `xml:"version"`
		Questions []bankQuestion `xml:"questions>question"`
	} `xml:"question_version>question_versions"`
}

// readQuestionBank reads questions.xml into its question bank entries, by entry id.
func readQuestionBank(a archive) (map[string]bankEntry, error) {
	out := map[string]bankEntry{}
	if _, ok := a["questions.xml"]; !ok {
		return out, nil
	}
	var x struct {
		Categories []struct {
			Entries []bankEntry `xml:"question_bank_entries>question_bank_entry"`
		} `xml:"question_category"`
	}
	if err := a.xml("questions.xml", &x); err != nil {
		return nil, err
	}
	for _, c := range x.Categories {
		for _, e := range c.Entries {
			out[e.ID] = e
		}
	}
	return out, nil
}

// formatName maps Moodle's numeric text formats (0 moodle, 1 html, 2 plain, 4 markdown) to moodleText's.
func formatName(f string) string {
	switch strings.TrimSpace(f) {
	case "1":
		return "html"
	case "4":
		return "markdown"
	case "2":
		return "plain_text"
	}
	return "moodle_auto_format"
}

func moodleFraction(s string) *float64 {
	v, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return &v
}

func (b *Backup) quiz(a archive, dir string, bank map[string]bankEntry) (*course.FileActivity, error) {
	var x struct {
		Quiz struct {
			Name        string `xml:"name"`
			Intro       string `xml:"intro"`
			TimeLimit   int64  `xml:"timelimit"`
			Attempts    int    `xml:"attempts_number"`
			GradeMethod int    `xml:"grademethod"`
			Shuffle     int    `xml:"shuffleanswers"`
			Grade       string `xml:"grade"`
			Instances   []struct {
				Slot    int    `xml:"slot"`
				MaxMark string `xml:"maxmark"`
				EntryID string `xml:"question_reference>questionbankentryid"`
				// A random question draws from a category: Moodle 4 writes a set reference instead.
				SetRef  *struct{} `xml:"question_set_reference"`
				Version string    `xml:"question_reference>version"`
			} `xml:"question_instances>question_instance"`
		} `xml:"quiz"`
	}
	file := dir + "/quiz.xml"
	if err := a.xml(file, &x); err != nil {
		return nil, err
	}
	qz := x.Quiz
	name := strings.TrimSpace(qz.Name)
	fa := &course.FileActivity{Type: course.TypeQuiz, Name: name, Description: PlainText(qz.Intro), AttemptsAllowed: qz.Attempts,
		ShuffleAnswers: qz.Shuffle == 1}
	fa.MaxGrade, _ = strconv.ParseFloat(strings.TrimSpace(qz.Grade), 64)
	switch qz.GradeMethod {
	case 4:
		fa.GradingMethod = course.GradeLast
	case 1, 0:
		fa.GradingMethod = course.GradeHighest
	default:
		fa.GradingMethod = course.GradeHighest
		b.Notes = append(b.Notes, fmt.Sprintf("quiz %q: Moodle's grading method %d (average or first attempt) is not in ltipub; the highest attempt counts", name, qz.GradeMethod))
	}
	if qz.TimeLimit > 0 {
		fa.TimeLimit = int((qz.TimeLimit + 59) / 60) // Moodle keeps seconds; ltipub whole minutes, rounded up
	}
	sort.SliceStable(qz.Instances, func(i, j int) bool { return qz.Instances[i].Slot < qz.Instances[j].Slot })
	for k, in := range qz.Instances {
		where := fmt.Sprintf("activity/quiz/question_instances/question_instance[%d]", k+1)
		if in.SetRef != nil || strings.TrimSpace(in.EntryID) == "" {
			b.Notes = append(b.Notes, fmt.Sprintf("quiz %q: slot %d draws a random question, which ltipub does not have; left out", name, in.Slot))
			continue
		}
		e, ok := bank[strings.TrimSpace(in.EntryID)]
		if !ok || len(e.Versions) == 0 {
			return nil, &Error{File: file, Where: where, Message: fmt.Sprintf("question bank entry %s is not in questions.xml (random questions and questions from other courses' banks are not imported)", in.EntryID)}
		}
		ver := e.Versions[len(e.Versions)-1] // the latest version, unless the slot names one
		if v, err := strconv.Atoi(strings.TrimSpace(in.Version)); err == nil {
			for _, cand := range e.Versions {
				if cand.Version == v {
					ver = cand
				}
			}
		}
		if len(ver.Questions) == 0 {
			return nil, &Error{File: "questions.xml", Where: "question_bank_entry id=" + e.ID, Message: "the entry has no question"}
		}
		q, err := bankToQuestion(ver.Questions[0], "questions.xml", "question_bank_entry id="+e.ID)
		var unsupported *unsupportedType
		if errors.As(err, &unsupported) {
			b.Notes = append(b.Notes, fmt.Sprintf("quiz %q: slot %d, question %q, is of type %s, which ltipub does not have; left out", name, in.Slot, unsupported.name, unsupported.qtype))
			continue
		}
		if err != nil {
			return nil, err
		}
		q.ID = strings.TrimSpace(e.IDNumber)
		if q.ID == "" || q.ID == "$@NULL@$" {
			q.ID = "q" + strconv.Itoa(in.Slot)
		}
		if m, err := strconv.ParseFloat(strings.TrimSpace(in.MaxMark), 64); err == nil && m > 0 {
			q.Points = m
		}
		fa.Questions = append(fa.Questions, q)
	}
	if len(fa.Questions) == 0 {
		return nil, errNoQuestions
	}
	return fa, nil
}

// errNoQuestions means a quiz has no question ltipub can take: it is listed as skipped.
var errNoQuestions = errors.New("no question ltipub can take")

type unsupportedType struct{ name, qtype string }

func (u *unsupportedType) Error() string {
	return fmt.Sprintf("question %q is of type %q", u.name, u.qtype)
}

func bankToQuestion(bq bankQuestion, file, where string) (course.Question, error) {
	q := course.Question{Name: strings.TrimSpace(bq.Name), Format: course.FormatMarkdown,
		Text:            moodleText(formatName(bq.QuestionFormat), bq.QuestionText),
		GeneralFeedback: moodleText(formatName(bq.GeneralFormat), nullable(bq.GeneralFeedback))}
	q.Points, _ = strconv.ParseFloat(strings.TrimSpace(bq.DefaultMark), 64)
	switch bq.QType {
	case "multichoice":
		q.Type = course.MultiChoice
		multiple := strings.TrimSpace(bq.Single) == "0"
		q.Multiple = &multiple
		for _, an := range bq.Answers {
			q.Choices = append(q.Choices, course.Choice{Text: moodlePlain(formatName(an.Format), an.Text), Fraction: moodleFraction(an.Fraction),
				Feedback: moodleText(formatName(an.FeedbackFm), an.Feedback)})
		}
	case "truefalse":
		q.Type = course.TrueFalse
		for _, an := range bq.TFAnswers {
			fb := moodleText(formatName(an.FeedbackFm), an.Feedback)
			right := *moodleFraction(an.Fraction) > 0.5
			switch an.ID {
			case bq.TF.True:
				q.TrueFeedback = fb
				if right {
					q.CorrectAnswer = ptrBool(true)
				}
			case bq.TF.False:
				q.FalseFeedback = fb
				if right {
					q.CorrectAnswer = ptrBool(false)
				}
			}
		}
	case "shortanswer":
		q.Type = course.ShortAnswer
		q.CaseSensitive = strings.TrimSpace(bq.UseCase) == "1"
		for _, an := range bq.SAAnswers {
			q.Answers = append(q.Answers, course.Answer{Text: strings.TrimSpace(an.Text), Fraction: moodleFraction(an.Fraction),
				Feedback: moodleText(formatName(an.FeedbackFm), an.Feedback)})
		}
	case "numerical":
		q.Type = course.Numerical
		tol := map[string]float64{}
		for _, r := range bq.NumRecords {
			tol[strings.TrimSpace(r.Answer)], _ = strconv.ParseFloat(strings.TrimSpace(r.Tolerance), 64)
		}
		for _, an := range bq.NumAnswers {
			q.Answers = append(q.Answers, course.Answer{Text: strings.TrimSpace(an.Text), Fraction: moodleFraction(an.Fraction),
				Tolerance: tol[an.ID], Feedback: moodleText(formatName(an.FeedbackFm), an.Feedback)})
		}
		for _, u := range bq.NumUnits {
			m, _ := strconv.ParseFloat(strings.TrimSpace(u.Multiplier), 64)
			q.Units = append(q.Units, course.Unit{Unit: strings.TrimSpace(u.Unit), Multiplier: m})
		}
	case "match":
		q.Type = course.Matching
		for _, m := range bq.Matches {
			q.Pairs = append(q.Pairs, course.Pair{Item: moodlePlain(formatName(m.Format), m.Text), Answer: strings.TrimSpace(m.Answer)})
		}
	case "essay":
		q.Type = course.Essay
		q.GraderInfo = moodleText(formatName(bq.GraderFormat), nullable(bq.GraderInfo))
	default:
		return q, &unsupportedType{name: bq.Name, qtype: bq.QType}
	}
	return q, nil
}

func nullable(s string) string {
	if s == "$@NULL@$" {
		return ""
	}
	return s
}
