// Package tags is the vocabulary of the AWS_KINESISVIDEO_* Matroska tags
// that Kinesis Video Streams writes into GetMedia and GetMediaForFragmentList
// responses, and their exact typed values: fragment numbers compared
// numerically, timestamps parsed from decimal seconds without floating point,
// and in-band fragment errors. It does no I/O.
//
// Tag names differ between the APIs and between the documentation and the
// wire; Lookup accepts every spelling seen:
//
//	tags.Lookup("AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP") == tags.KeyServerTimestamp
//	tags.Lookup("AWS_KINESISVIDEO_SERVER_TIMESTAMP") == tags.KeyServerTimestamp
package tags
