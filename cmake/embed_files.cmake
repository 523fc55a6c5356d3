# Writes OUT: a C++ file that holds each of FILES (paths relative to BASE) as bytes, for the
# dashboard that kittyd serves from its own binary (src/kitty/http/ui_assets.h). Run by a
# custom command at build time: cmake -DBASE=.. -DOUT=.. -DFILES=a,b -P embed_files.cmake
string(REPLACE "," ";" FILES "${FILES}")
set(body "// Generated from ${BASE} by cmake/embed_files.cmake; do not edit.\n")
string(APPEND body "#include \"kitty/http/ui_assets.h\"\n\nnamespace kitty::web {\nnamespace {\n")
set(table "")
set(i 0)
foreach(f IN LISTS FILES)
  file(READ "${BASE}/${f}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(APPEND body "const char kFile${i}[] = {${bytes} 0};\n")
  string(APPEND table "    {\"${f}\", std::string_view(kFile${i}, ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "}  // namespace\n\nconst std::vector<UiAsset>& UiAssets() {\n")
string(APPEND body "  static const std::vector<UiAsset> assets = {\n${table}  };\n  return assets;\n}\n\n")
string(APPEND body "}  // namespace kitty::web\n")
# Only a changed file is rewritten, so an unchanged dashboard rebuilds nothing.
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
