#!/usr/bin/env bash
# STYLE.md bans functions that overflow or hide state. VLAs are caught by -Wvla.
set -eu
cd "$1"
pattern='\b(sprintf|vsprintf|strcpy|strcat|gets|strtok|atoi|atol|alloca)[[:space:]]*\('
if grep -rnE "$pattern" src tests/unit tests/vectors fuzz --include='*.[ch]'; then
  echo "banned function used (see STYLE.md, 'Bytes from outside')"
  exit 1
fi
echo "no banned functions"
