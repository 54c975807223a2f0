package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 is Storage in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph…),
// under an optional key prefix, so that several replicas share the files.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or "some/prefix/"
}

// S3Config says which bucket to use and how to reach it.
type S3Config struct {
	Bucket string
	Prefix string
	// Endpoint overrides the AWS endpoint (MinIO and other S3-compatible
	// stores); requests then use path-style URLs (endpoint/bucket/key).
	Endpoint string
	// Region and Credentials, when set, replace the SDK's usual sources
	// (tests); the server leaves them to the environment.
	Region      string
	Credentials aws.CredentialsProvider
}

// OpenS3 connects to the bucket with the AWS SDK's usual configuration:
// AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile, web
// identity or instance role), AWS_ENDPOINT_URL_S3. It checks the bucket is
// reachable, so a misconfiguration stops the server at start.
func OpenS3(ctx context.Context, c S3Config) (*S3, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.Credentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(c.Credentials))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("media store: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1" // what MinIO expects; real S3 needs AWS_REGION
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
			o.UsePathStyle = true
		}
		// Checksums only where S3 requires them: S3-compatible stores do
		// not all accept the SDK's newer default checksum headers.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s := NewS3(client, c.Bucket, c.Prefix)
	checkCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := client.HeadBucket(checkCtx, &s3.HeadBucketInput{Bucket: aws.String(c.Bucket)}); err != nil {
		return nil, fmt.Errorf("media store: bucket %s is not reachable: %w", c.Bucket, err)
	}
	return s, nil
}

// NewS3 uses client for the bucket, with keys under prefix.
func NewS3(client *s3.Client, bucket, prefix string) *S3 {
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}
}

func (s *S3) key(key string) (*string, error) {
	if !validKey(key) {
		return nil, badKey(key)
	}
	return aws.String(s.prefix + key), nil
}

func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           k,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(http.DetectContentType(data)),
	})
	if err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	return nil
}

func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: k})
	if notFound(err) {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("media: get %s: %w", key, err)
	}
	return out.Body, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: k})
	if err != nil && !notFound(err) {
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	return nil
}

// notFound recognises a missing object, whether the store says NoSuchKey
// or only answers 404.
func notFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
