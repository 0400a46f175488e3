"""Archive (归档): seal a finished item as a dossier in object-locked S3 and verify it later."""

from .dossier import Dossier, DossierMeta, archival_code, build_dossier
from .store import ArchiveError, ArchiveStore, DossierLocation, VerifyReport, dossier_prefix

__all__ = [
    "ArchiveError",
    "ArchiveStore",
    "Dossier",
    "DossierLocation",
    "DossierMeta",
    "VerifyReport",
    "archival_code",
    "build_dossier",
    "dossier_prefix",
]
