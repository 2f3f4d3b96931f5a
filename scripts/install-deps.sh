#!/usr/bin/env bash
# Installs the Debian packages that the tests and the local provider plugins
# need: CMU PocketSphinx and its US English model for transcription/sphinx.
# It installs only what is missing, so running it again changes nothing.
# Needs root (or sudo) for apt-get when something is missing.
set -euo pipefail

packages=(pocketsphinx pocketsphinx-en-us)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	if [[ "$status" != "installed" ]]; then
		missing+=("$pkg")
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all packages present: ${packages[*]}"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing ${missing[*]} and apt-get is not available; install them with your system's package manager" >&2
	exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: missing ${missing[*]}; run this script as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine, so refresh them once
# before the install.
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
