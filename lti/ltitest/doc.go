// Package ltitest is a strict, in-memory LTI 1.3 / LTI Advantage platform
// for testing tools. It is an independent implementation: it does not
// import the tool-side package lti and keeps its own claim vocabulary and
// JOSE code, so that it catches the tool's bugs instead of sharing them.
//
// A Platform serves, under its base URL (which is also its issuer):
//
//	GET  /jwks                              platform key set (RotateKey, JWKSFetches)
//	GET|POST /auth                          OIDC authentication endpoint (strict)
//	GET  /launch?hint=  GET /course?hint=   browser pages: auto-posted login initiation, iframe course page
//	POST /token                             client_credentials with a private_key_jwt client assertion
//	/ags/{context}/lineitems[/{id}[/scores|/results]]   Assignment and Grade Services 2.0
//	GET  /nrps/{context}/memberships        Names and Role Provisioning Services 2.0
//	POST /deeplink/return?session=          Deep Linking 2.0 response (field JWT)
//	GET  /.well-known/openid-configuration  Dynamic Registration: platform configuration
//	POST /register                          Dynamic Registration: client registration
//	GET  /register-host?url=                page holding the tool's registration URL in an iframe
//	GET  /return                            launch_presentation return_url (records lti_msg etc.)
//
// In tests, start it with NewServer and register the tool under test:
//
//	p := ltitest.NewServer(t, ltitest.Config{})
//	p.RegisterTool(ltitest.ToolConfig{
//		ClientID: "c1", DeploymentIDs: []string{"d1"},
//		LoginURL: tool.URL + "/lti/login", RedirectURIs: []string{tool.URL + "/lti/launch"},
//		JWKSURL: tool.URL + "/lti/jwks", TargetLinkURI: tool.URL + "/lti/launch",
//	})
//	jar, _ := cookiejar.New(nil)
//	res, err := p.Launch(ctx, &http.Client{Jar: jar}, ltitest.LaunchSpec{
//		User:  &ltitest.User{Sub: "u1", Name: "Ada"},
//		Roles: []string{ltitest.RoleLearner},
//		Context: &ltitest.Context{ID: "course-1", Title: "Course"},
//		AGS: &ltitest.AGS{}, NRPS: true,
//	})
//	// res.Response / res.Body is the tool's answer to the id_token post.
//
// Launch plays a browser without JavaScript: it sends the login initiation
// (GET or POST, see LaunchSpec.LoginMethod), follows redirects, submits an
// auto-posted authentication request, and posts the id_token form back to
// the tool. For step-by-step control use LoginInitiation, ParseForms and
// Form.Submit; MintIDToken signs an id_token directly. Negative tests set
// LaunchSpec.Tamper (see AllTampers) or LaunchSpec.Mutate; LastIDToken
// returns the last token posted, for replay tests.
//
// For a real browser, open CoursePageURL(spec): the tool runs in an iframe
// named "ltitool", as inside an LMS. Outside tests (ltipub demo) create the
// platform with New(Config{BaseURL: ...}) and serve Handler() or call Serve.
//
// Services need an access token from /token (or IssueAccessToken). Service
// faults (429 with Retry-After, 500, garbage JSON, a paging loop, slow
// answers, arbitrary status/body) are queued with InjectFault. Inspect state
// with AuthRequests, TokenRequests, LineItems, Scores, LatestScore,
// DeepLinkReturns, Links, Registrations, CloseMessages and Returns.
//
// LTI client-side postMessage platform storage: with LaunchSpec.Storage set,
// the course page also holds a storage frame named StorageFrameName (sent as
// lti_storage_target; GET /storage?client_id=&mode=) that answers
// lti.capabilities, lti.put_data and lti.get_data (lti.* and
// org.imsglobal.lti.* subjects) only to the tool's origin, taken from its
// registered login URL. StorageWrongOrigin, StorageWrongValue and
// StorageSilent break it; StorageMessages lists what the frame received.
package ltitest
