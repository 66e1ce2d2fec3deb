#!/usr/bin/env bash
# Prints the directory holding Kafka's tools jars (ConsumerGroupCommand), downloading them
# from Maven Central on first use: bash packages/kafka/tools/fetch-tools.sh [kafka-version]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="${1:-${KAFKA_VERSION:-4.4.0}}"
DIR="$HERE/../.cache/kafka-tools-$VERSION"
if [[ ! -f "$DIR/.complete" ]]; then
  command -v mvn >/dev/null 2>&1 || { echo "mvn not found: needed once to fetch kafka-tools $VERSION (Debian: apt-get install maven)" >&2; exit 1; }
  mkdir -p "$DIR"
  exec 9>"$DIR.lock"
  flock 9
  if [[ ! -f "$DIR/.complete" ]]; then
    timeout 600 mvn -B -q -f "$HERE/pom.xml" "-Dkafka.version=$VERSION" dependency:copy-dependencies \
      -DincludeScope=runtime "-DoutputDirectory=$DIR" >&2
    touch "$DIR/.complete"
  fi
fi
cd "$DIR" && pwd
