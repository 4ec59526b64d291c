# Storage for clinic-api's FHIR bulk-export files ($export NDJSON). Exports are encrypted with a
# customer-managed KMS key, versioned, private, access-logged, expired after the retention period
# and replicated to a second region for disaster recovery. Each region has an access-log bucket;
# the logs are kept six years (HIPAA documentation retention) and replicated too.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "name_prefix" {
  description = "Prefix of every bucket name, e.g. clinic-api-staging."
  type        = string
  default     = "clinic-api-example"
}

variable "export_retention_days" {
  description = "Days a bulk-export file is kept before it expires."
  type        = number
  default     = 30
}

provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "replica"
  region = "us-west-2"
}

data "aws_caller_identity" "current" {}

locals {
  # Six years: HIPAA's retention period for documentation such as access records.
  log_retention_days = 2190

  account_root = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"
  # A key policy's "*" resource means the key itself; the account administers it through IAM.
  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersKey"
      Effect    = "Allow"
      Principal = { AWS = local.account_root }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

# --- keys ------------------------------------------------------------------------------------

resource "aws_kms_key" "exports" {
  description             = "Encrypts clinic-api FHIR bulk exports."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = local.key_policy
}

resource "aws_kms_key" "replica" {
  provider                = aws.replica
  description             = "Encrypts the disaster-recovery copy of clinic-api FHIR bulk exports."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = local.key_policy
}

# --- exports (us-east-1) ---------------------------------------------------------------------

resource "aws_s3_bucket" "exports" {
  bucket = "${var.name_prefix}-fhir-exports"
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket                  = aws_s3_bucket.exports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "exports" {
  bucket = aws_s3_bucket.exports.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.exports.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "exports" {
  bucket        = aws_s3_bucket.exports.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "fhir-exports/"
}

resource "aws_s3_bucket_notification" "exports" {
  bucket      = aws_s3_bucket.exports.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.export_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# --- access logs (us-east-1) -----------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145: S3 server access logs can only be delivered to buckets encrypted with SSE-S3, not SSE-KMS
  bucket = "${var.name_prefix}-access-logs"
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_notification" "logs" {
  bucket      = aws_s3_bucket.logs.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = local.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# --- disaster-recovery copy of the exports (us-west-2) ---------------------------------------

resource "aws_s3_bucket" "replica" {
  provider = aws.replica
  bucket   = "${var.name_prefix}-fhir-exports-replica"
}

resource "aws_s3_bucket_public_access_block" "replica" {
  provider                = aws.replica
  bucket                  = aws_s3_bucket.replica.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "replica" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.replica.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "replica" {
  provider      = aws.replica
  bucket        = aws_s3_bucket.replica.id
  target_bucket = aws_s3_bucket.replica_logs.id
  target_prefix = "fhir-exports-replica/"
}

resource "aws_s3_bucket_notification" "replica" {
  provider    = aws.replica
  bucket      = aws_s3_bucket.replica.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.export_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# --- access logs of the copy, and replicated access logs (us-west-2) -------------------------

resource "aws_s3_bucket" "replica_logs" {
  #checkov:skip=CKV_AWS_145: S3 server access logs can only be delivered to buckets encrypted with SSE-S3, not SSE-KMS
  provider = aws.replica
  bucket   = "${var.name_prefix}-access-logs-replica"
}

resource "aws_s3_bucket_public_access_block" "replica_logs" {
  provider                = aws.replica
  bucket                  = aws_s3_bucket.replica_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "replica_logs" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica_logs" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_notification" "replica_logs" {
  provider    = aws.replica
  bucket      = aws_s3_bucket.replica_logs.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "replica_logs" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica_logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = local.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# --- replication: exports and access logs to us-west-2 ---------------------------------------

data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  name               = "${var.name_prefix}-s3-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_assume.json
}

data "aws_iam_policy_document" "replication" {
  statement {
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [aws_s3_bucket.exports.arn, aws_s3_bucket.logs.arn]
  }
  statement {
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = ["${aws_s3_bucket.exports.arn}/*", "${aws_s3_bucket.logs.arn}/*"]
  }
  statement {
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = ["${aws_s3_bucket.replica.arn}/*", "${aws_s3_bucket.replica_logs.arn}/*"]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.exports.arn]
  }
  statement {
    actions   = ["kms:Encrypt"]
    resources = [aws_kms_key.replica.arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-to-us-west-2"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}

resource "aws_s3_bucket_replication_configuration" "exports" {
  depends_on = [aws_s3_bucket_versioning.exports, aws_s3_bucket_versioning.replica]
  role       = aws_iam_role.replication.arn
  bucket     = aws_s3_bucket.exports.id

  rule {
    id     = "disaster-recovery"
    status = "Enabled"
    filter {}
    delete_marker_replication {
      status = "Enabled"
    }
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }
    destination {
      bucket        = aws_s3_bucket.replica.arn
      storage_class = "STANDARD"
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.replica.arn
      }
    }
  }
}

resource "aws_s3_bucket_replication_configuration" "logs" {
  depends_on = [aws_s3_bucket_versioning.logs, aws_s3_bucket_versioning.replica_logs]
  role       = aws_iam_role.replication.arn
  bucket     = aws_s3_bucket.logs.id

  rule {
    id     = "keep-audit-logs"
    status = "Enabled"
    filter {}
    delete_marker_replication {
      status = "Enabled"
    }
    destination {
      bucket        = aws_s3_bucket.replica_logs.arn
      storage_class = "STANDARD_IA"
    }
  }
}

# --- bucket policies: TLS only; the log buckets also admit S3's log delivery -----------------

data "aws_iam_policy_document" "tls_only" {
  for_each = {
    exports      = aws_s3_bucket.exports.arn
    logs         = aws_s3_bucket.logs.arn
    replica      = aws_s3_bucket.replica.arn
    replica_logs = aws_s3_bucket.replica_logs.arn
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    # Only the access-log buckets receive server access logs.
    for_each = endswith(each.key, "logs") ? [each.value] : []
    content {
      sid       = "S3ServerAccessLogDelivery"
      actions   = ["s3:PutObject"]
      resources = ["${statement.value}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "exports" {
  bucket = aws_s3_bucket.exports.id
  policy = data.aws_iam_policy_document.tls_only["exports"].json
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.tls_only["logs"].json
}

resource "aws_s3_bucket_policy" "replica" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica.id
  policy   = data.aws_iam_policy_document.tls_only["replica"].json
}

resource "aws_s3_bucket_policy" "replica_logs" {
  provider = aws.replica
  bucket   = aws_s3_bucket.replica_logs.id
  policy   = data.aws_iam_policy_document.tls_only["replica_logs"].json
}
