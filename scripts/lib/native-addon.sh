# Builds one of our native addons (build/native/*.node) the way the runtime expects it
# (src/runtime/native-addon.ts): compiled to a temporary file, checked there, then moved in place
# with `<addon>.sources` (the digest of its sources, which the runtime compares before loading)
# and `<addon>.stamp` (what it was built from and with, so a rerun with nothing changed is quick).
# Sourced after script-preamble.sh and node-headers.sh. The caller sets:
#   ADDON_OUT         the addon, e.g. "$ROOT/build/native/decode_kernels.node"
#   ADDON_SOURCES     array: the files compiled
#   ADDON_STAMPED     array: every file whose change should rebuild it (sources and headers)
#   ADDON_COMPILER    the compiler, e.g. gcc or g++
#   ADDON_FLAGS       array: flags before the sources
#   ADDON_LIBS        array: after the sources (libraries)
#   ADDON_DIGEST      a TypeScript module and an export of it that prints the sources' digest,
#                     e.g. "./src/stages/decode/native-decode.ts nativeDecodeSourcesDigest"
# and defines addon_works FILE, which prints "ok" when the addon at FILE loads and works.
# Then: build_native_addon "<what it is>" [FORCE]

build_native_addon() {
  local what="$1" force="${2:-0}"
  local stamp
  stamp="$(cat "${ADDON_STAMPED[@]}" <(printf '%s\n' "${ADDON_FLAGS[*]} ${ADDON_LIBS[*]}") <("$ADDON_COMPILER" --version | head -n 1) | sha256sum | cut -d' ' -f1)"
  if [ "$force" = 0 ] && [ -f "$ADDON_OUT" ] && [ -f "$ADDON_OUT.sources" ] && [ "$(cat "$ADDON_OUT.stamp" 2>/dev/null)" = "$stamp" ]; then
    say "$what up to date (${ADDON_OUT#"$ROOT/"})"
    return 0
  fi
  mkdir -p "$(dirname "$ADDON_OUT")"
  ADDON_TMP="$(mktemp "$(dirname "$ADDON_OUT")/.addon.XXXXXX")"
  trap 'rm -f "$ADDON_TMP"' EXIT
  say "building the $what (${ADDON_SOURCES[0]#"$ROOT/"})"
  "$ADDON_COMPILER" "${ADDON_FLAGS[@]}" -I"$NODE_DIR/include/node" -o "$ADDON_TMP" "${ADDON_SOURCES[@]}" "${ADDON_LIBS[@]}" ||
    fail "compiling the $what failed (see above)"
  local out
  out="$(addon_works "$ADDON_TMP")"
  [ "$out" = "ok" ] || fail "the new build of the $what fails its check: $out"
  local module="${ADDON_DIGEST% *}" export_name="${ADDON_DIGEST#* }" digest
  digest="$(cd "$ROOT" && node --import tsx --input-type=module -e "
    const m = await import('$module');
    console.log(m.$export_name());
  ")" || fail "could not take the digest of the $what's sources"
  mv "$ADDON_TMP" "$ADDON_OUT"
  echo "$digest" >"$ADDON_OUT.sources"
  echo "$stamp" >"$ADDON_OUT.stamp"
  say "$what ready: ${ADDON_OUT#"$ROOT/"}"
}
