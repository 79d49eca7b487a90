"""The pure verifiability core: canonical JSON, the hash-chained log, the ballot tree,
receipts, the published bundle and its verifier.

Importing this package loads only these pure modules (no web framework, no database); the
log writer the services use (``stemmen.audit.log``) and its tables are imported explicitly.
"""

from stemmen.audit.bundle import BUNDLE_FORMAT, BundleError, load_bundle
from stemmen.audit.canonical import CanonicalJSONError, canonical_bytes, canonical_hash
from stemmen.audit.chain import ChainReport, Finding, LogEntry, append, verify_chain
from stemmen.audit.merkle import inclusion_proof, merkle_root, verify_inclusion
from stemmen.audit.receipts import check_seed, commit_seed, make_receipt, receipt_hash
from stemmen.audit.verify import VerificationReport, verify_bundle, verify_receipt

__all__ = [
    "BUNDLE_FORMAT",
    "BundleError",
    "CanonicalJSONError",
    "ChainReport",
    "Finding",
    "LogEntry",
    "VerificationReport",
    "append",
    "canonical_bytes",
    "canonical_hash",
    "check_seed",
    "commit_seed",
    "inclusion_proof",
    "load_bundle",
    "make_receipt",
    "merkle_root",
    "receipt_hash",
    "verify_bundle",
    "verify_chain",
    "verify_inclusion",
    "verify_receipt",
]
