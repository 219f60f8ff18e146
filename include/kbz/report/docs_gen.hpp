// docs/MODULE_0N_*.md: the part between the markers is rendered from the module definition (versions, hosts,
// steps, files, ports, checks, failover scenarios, credential names); everything outside them is written by
// people and kept byte for byte. Output is deterministic (no dates) so `kbz-install docs --check` can gate
// CI.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"

namespace kbz {

inline constexpr std::string_view kGeneratedBegin = "<!-- BEGIN GENERATED: kbz-install docs -->";
inline constexpr std::string_view kGeneratedEnd = "<!-- END GENERATED: kbz-install docs -->";

// The generated block, markers included, ending with a newline.
std::string render_generated_block(const Module& module);

// The hand-written sections every module doc has (the seed's list), as `## ` headings; a heading may go on
// after the name ("## Architecture / Vue d'ensemble").
inline constexpr std::array<std::string_view, 9> kDocSections = {"Architecture",
                                                                 "Versions",
                                                                 "Configuration complète",
                                                                 "Installation pas à pas",
                                                                 "Commandes de vérification",
                                                                 "Tests de connectivité",
                                                                 "Tests de failover",
                                                                 "Dépannage",
                                                                 "Règles à ne pas changer"};

// The sections of kDocSections that `doc` lacks outside its generated block, or that hold nothing but the
// skeleton's "_À compléter" placeholder; in kDocSections order.
std::vector<std::string> missing_doc_sections(const std::string& doc);

// A new doc: French skeleton of hand-written sections around the generated block.
std::string doc_skeleton(const Module& module, const std::string& block);

// Replaces what stands between the markers of `existing` by `block`; text outside is untouched. A doc without
// markers gets the block appended. A single, repeated or reversed marker is an error naming origin:line.
// `begin`/`end` are the marker lines (other files wrap them in their own comment syntax).
Result<std::string> merge_generated(const std::string& existing, const std::string& block,
                                    const std::string& origin, std::string_view begin = kGeneratedBegin,
                                    std::string_view end = kGeneratedEnd);

enum class DocChange { Unchanged, Updated, Created };

struct DocUpdate {
  std::string path;
  DocChange change = DocChange::Unchanged;
  std::string content;  // the doc as it should be
};

// Reads docs_dir/module.doc (if any) and computes what it should contain; writes nothing.
Result<DocUpdate> plan_doc_update(const Module& module, const std::string& docs_dir);

}  // namespace kbz
