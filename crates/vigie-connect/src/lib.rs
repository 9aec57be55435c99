//! Sources of mentions: the Connector trait, file import (JSONL/CSV) and the synthetic demo crisis.
