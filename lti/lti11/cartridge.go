package lti11

import (
	"encoding/xml"
	"sort"
)

// Cartridge describes a tool link as an IMS Common Cartridge basic LTI link (cartridge_basiclti_link), the XML
// a platform imports from a "cartridge URL" (Moodle: a tool URL ending in .xml, or answering XML).
type Cartridge struct {
	Title           string
	Description     string
	LaunchURL       string
	SecureLaunchURL string
	Icon            string
	SecureIcon      string
	// Custom parameters the platform sends with every launch.
	Custom map[string]string
	// Extensions per platform (for example "moodle"), each with its properties.
	Extensions map[string]map[string]string
	Vendor     Vendor
}

// Vendor is the cartridge's vendor block.
type Vendor struct {
	Code, Name, Description, URL, ContactEmail string
}

type ccProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:",chardata"`
}

type ccExtensions struct {
	Platform   string       `xml:"platform,attr"`
	Properties []ccProperty `xml:"lticm:property"`
}

type ccVendor struct {
	Code        string     `xml:"lticp:code"`
	Name        string     `xml:"lticp:name"`
	Description string     `xml:"lticp:description,omitempty"`
	URL         string     `xml:"lticp:url,omitempty"`
	Contact     *ccContact `xml:"lticp:contact,omitempty"`
}

type ccContact struct {
	Email string `xml:"lticp:email"`
}

type ccLink struct {
	XMLName         xml.Name       `xml:"cartridge_basiclti_link"`
	NS              string         `xml:"xmlns,attr"`
	NSBLTI          string         `xml:"xmlns:blti,attr"`
	NSLTICM         string         `xml:"xmlns:lticm,attr"`
	NSLTICP         string         `xml:"xmlns:lticp,attr"`
	NSXSI           string         `xml:"xmlns:xsi,attr"`
	SchemaLocation  string         `xml:"xsi:schemaLocation,attr"`
	Title           string         `xml:"blti:title"`
	Description     string         `xml:"blti:description,omitempty"`
	Custom          *ccCustom      `xml:"blti:custom,omitempty"`
	Extensions      []ccExtensions `xml:"blti:extensions"`
	LaunchURL       string         `xml:"blti:launch_url"`
	SecureLaunchURL string         `xml:"blti:secure_launch_url,omitempty"`
	Icon            string         `xml:"blti:icon,omitempty"`
	SecureIcon      string         `xml:"blti:secure_icon,omitempty"`
	Vendor          ccVendor       `xml:"blti:vendor"`
	CartridgeBundle *ccRef         `xml:"cartridge_bundle,omitempty"`
}

type ccCustom struct {
	Properties []ccProperty `xml:"lticm:property"`
}

type ccRef struct {
	IdentifierRef string `xml:"identifierref,attr"`
}

// XML renders the cartridge.
func (c Cartridge) XML() ([]byte, error) {
	l := ccLink{NS: "http://www.imsglobal.org/xsd/imslticc_v1p0", NSBLTI: "http://www.imsglobal.org/xsd/imsbasiclti_v1p0",
		NSLTICM: "http://www.imsglobal.org/xsd/imslticm_v1p0", NSLTICP: "http://www.imsglobal.org/xsd/imslticp_v1p0",
		NSXSI: "http://www.w3.org/2001/XMLSchema-instance",
		SchemaLocation: "http://www.imsglobal.org/xsd/imslticc_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticc_v1p0.xsd " +
			"http://www.imsglobal.org/xsd/imsbasiclti_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imsbasiclti_v1p0p1.xsd " +
			"http://www.imsglobal.org/xsd/imslticm_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticm_v1p0.xsd " +
			"http://www.imsglobal.org/xsd/imslticp_v1p0 http://www.imsglobal.org/xsd/lti/ltiv1p0/imslticp_v1p0.xsd",
		Title: c.Title, Description: c.Description, LaunchURL: c.LaunchURL, SecureLaunchURL: c.SecureLaunchURL,
		Icon: c.Icon, SecureIcon: c.SecureIcon,
		Vendor: ccVendor{Code: c.Vendor.Code, Name: c.Vendor.Name, Description: c.Vendor.Description, URL: c.Vendor.URL}}
	if c.Vendor.ContactEmail != "" {
		l.Vendor.Contact = &ccContact{Email: c.Vendor.ContactEmail}
	}
	if len(c.Custom) > 0 {
		l.Custom = &ccCustom{Properties: sortedProps(c.Custom)}
	}
	platforms := make([]string, 0, len(c.Extensions))
	for p := range c.Extensions {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	for _, p := range platforms {
		l.Extensions = append(l.Extensions, ccExtensions{Platform: p, Properties: sortedProps(c.Extensions[p])})
	}
	b, err := xml.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func sortedProps(m map[string]string) []ccProperty {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]ccProperty, len(names))
	for i, k := range names {
		out[i] = ccProperty{Name: k, Value: m[k]}
	}
	return out
}
