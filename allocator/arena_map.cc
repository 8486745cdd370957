// sealpool — the arena map: every pool's extents and spans as an SVG.
//
// Apart from the statistics table (inspect.cc): whole-program mode links
// that table (malloc_stats) but not this file's absl::StrFormat and
// absl::Status code (internal/outcome.h says why).

#include <errno.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "allocator/inspect.h"
#include "allocator/internal/stats_text.h"

namespace sealpool {
namespace {

using internal::Bytes;
using internal::Flags;

// XML text with the five special characters escaped.
std::string Xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// Fill colour of a small span: hue by size class, 16 B (blue) to 32 KiB
// (green) on a log scale.
std::string ClassColour(uint32_t slot_size) {
  const double t = std::clamp(
      (std::log2(std::max<uint32_t>(slot_size, 16)) - 4.0) / 11.0, 0.0, 1.0);
  return absl::StrFormat("hsl(%d,65%%,62%%)", static_cast<int>(220 - 100 * t));
}

constexpr int kWidth = 1200;
constexpr int kLeft = 20;
constexpr int kBarWidth = kWidth - 2 * kLeft;
constexpr int kBarHeight = 34;
constexpr int kExtentGap = 6;

}  // namespace

std::string RenderArenaMap(const std::vector<PoolView>& pools) {
  const int band = kBarHeight + 62;
  const int legend_y = 50 + static_cast<int>(pools.size()) * band + 10;
  const int height = legend_y + 70;
  std::string svg = absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<defs><pattern id=\"sealed\" width=\"6\" height=\"6\" "
      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
      "<rect width=\"2\" height=\"6\" fill=\"#1b2a4a\" fill-opacity=\"0.55\"/>"
      "</pattern></defs>\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text class=\"title\" x=\"%d\" y=\"26\" font-size=\"16\" "
      "font-weight=\"bold\">sealpool arena: %d pool%s</text>\n",
      kWidth, height, kWidth, height, kLeft, static_cast<int>(pools.size()),
      pools.size() == 1 ? "" : "s");
  int y = 50;
  for (const PoolView& v : pools) {
    const PoolStats& s = v.stats;
    // Each band has its own scale: the pool's reserved bytes (extents laid
    // end to end, a small gap between extents) fill the bar.
    size_t total = 0;
    for (const SpanView& sp : v.spans) total += sp.bytes;
    const int gaps = static_cast<int>(s.extents > 0 ? s.extents - 1 : 0);
    const double scale =
        total == 0 ? 0 : (kBarWidth - gaps * kExtentGap) / static_cast<double>(total);
    absl::StrAppendFormat(
        &svg, "<g class=\"pool\" data-name=\"%s\" data-id=\"%u\">\n", Xml(s.name),
        s.id);
    absl::StrAppendFormat(
        &svg,
        "<text class=\"pool-name\" x=\"%d\" y=\"%d\" font-weight=\"bold\">%s "
        "(id %u)</text><text x=\"%d\" y=\"%d\" fill=\"#444\">%zu object%s, %s live, "
        "%s committed, %s reserved in %zu extent%s; %s sealed; %s metadata; %s"
        "</text>\n",
        kLeft, y + 12, Xml(s.name), s.id, kLeft + 260, y + 12, s.live_objects,
        s.live_objects == 1 ? "" : "s", Bytes(static_cast<double>(s.live_bytes)), Bytes(static_cast<double>(s.committed_bytes)),
        Bytes(static_cast<double>(s.reserved_bytes)), s.extents,
        s.extents == 1 ? "" : "s", Bytes(static_cast<double>(s.sealed_bytes)),
        Bytes(static_cast<double>(s.metadata_bytes)), Xml(Flags(s)));
    const int bar_y = y + 20;
    double x = kLeft;
    uintptr_t prev_end = 0;
    for (const SpanView& sp : v.spans) {
      if (prev_end != 0 && sp.start != prev_end) x += kExtentGap;  // next extent
      prev_end = sp.start + sp.bytes;
      const double w = std::max(sp.bytes * scale, 1.0);
      std::string cls, fill, what;
      switch (sp.kind) {
        case SpanView::Kind::kSmall:
          cls = "span small";
          fill = ClassColour(sp.slot_size);
          what = absl::StrFormat("small span, %u-byte slots, %u of %u live",
                                 sp.slot_size, sp.live, sp.slots);
          break;
        case SpanView::Kind::kLarge:
          cls = sp.live ? "span large" : "span large freed";
          fill = sp.live ? "#f28e2b" : "#c9c9c9";
          what = sp.live ? "large object" : "freed large object (guard pages)";
          break;
        case SpanView::Kind::kUncarved:
          cls = "uncarved";
          fill = "#eeeeee";
          what = "reserved, no span yet";
          break;
      }
      absl::StrAppendFormat(
          &svg,
          "<rect class=\"%s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
          "fill=\"%s\" stroke=\"white\" stroke-width=\"0.3\"><title>%#x: %s, "
          "%s%s</title></rect>\n",
          cls, x, bar_y, w, kBarHeight, fill, sp.start, what,
          Bytes(static_cast<double>(sp.bytes)), sp.sealed ? ", sealed" : "");
      if (sp.sealed) {
        absl::StrAppendFormat(&svg,
                              "<rect class=\"sealed\" x=\"%.2f\" y=\"%d\" "
                              "width=\"%.2f\" height=\"%d\" fill=\"url(#sealed)\"/>\n",
                              x, bar_y, w, kBarHeight);
      }
      if (sp.guard_bytes > 0 && sp.kind != SpanView::Kind::kUncarved) {
        // Guard pages at both ends of a span (a freed large span is all
        // guard): thin dark bars, at least a pixel wide.
        const double gw = std::max(sp.guard_bytes * scale / 2, 1.0);
        const bool all = sp.guard_bytes >= sp.bytes;
        absl::StrAppendFormat(
            &svg,
            "<rect class=\"guard\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
            "fill=\"#8b1a1a\"/>\n",
            x, bar_y, all ? w : std::min(gw, w / 2), kBarHeight);
        if (!all) {
          absl::StrAppendFormat(
              &svg,
              "<rect class=\"guard\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
              "height=\"%d\" fill=\"#8b1a1a\"/>\n",
              x + w - std::min(gw, w / 2), bar_y, std::min(gw, w / 2), kBarHeight);
        }
      }
      x += sp.bytes * scale;
    }
    // Metadata lives out of line (page table, span records, slack pages):
    // a bar on the same scale under the pool's band.
    const double mw = std::max(s.metadata_bytes * scale, 1.0);
    absl::StrAppendFormat(
        &svg,
        "<rect class=\"metadata\" x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"8\" "
        "fill=\"#7b4fa0\"><title>out-of-line metadata: %s</title></rect>"
        "<text x=\"%.2f\" y=\"%d\" fill=\"#7b4fa0\" font-size=\"10\">metadata "
        "(out of line, same scale)</text>\n",
        kLeft, bar_y + kBarHeight + 4, mw, Bytes(static_cast<double>(s.metadata_bytes)),
        kLeft + mw + 6, bar_y + kBarHeight + 11);
    svg += "</g>\n";
    y += band;
  }
  // Legend.
  struct Item {
    const char* cls;
    const char* fill;
    const char* label;
  };
  const Item items[] = {
      {"small", "hsl(220,65%,62%)", "small span, 16 B slots"},
      {"small", "hsl(120,65%,62%)", "small span, 32 KiB slots"},
      {"large", "#f28e2b", "large object"},
      {"freed", "#c9c9c9", "freed large object"},
      {"guard", "#8b1a1a", "guard pages"},
      {"sealed", "url(#sealed)", "sealed (read-only)"},
      {"uncarved", "#eeeeee", "reserved, unused"},
      {"metadata", "#7b4fa0", "metadata"},
  };
  absl::StrAppendFormat(&svg, "<g class=\"legend\">\n");
  int lx = kLeft;
  for (const Item& it : items) {
    absl::StrAppendFormat(
        &svg,
        "<rect class=\"legend-%s\" x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
        "fill=\"%s\" stroke=\"#999\" stroke-width=\"0.5\"/><text x=\"%d\" "
        "y=\"%d\">%s</text>\n",
        it.cls, lx, legend_y, it.fill, lx + 18, legend_y + 11, it.label);
    lx += 18 + 7 * static_cast<int>(std::strlen(it.label)) + 14;
  }
  absl::StrAppendFormat(
      &svg,
      "<text x=\"%d\" y=\"%d\" fill=\"#666\" font-size=\"11\">Each band is one "
      "pool drawn to its own scale: its extents end to end (gaps between "
      "extents), spans coloured by size class.</text>\n</g>\n</svg>\n",
      kLeft, legend_y + 40);
  return svg;
}

absl::Status WriteArenaMap(const std::string& path) {
  const std::string svg = RenderArenaMap(SnapshotPools());
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open '", path, "'"));
  }
  const bool ok = std::fwrite(svg.data(), 1, svg.size(), f) == svg.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    return absl::ErrnoToStatus(ok ? errno : err,
                               absl::StrCat("cannot write '", path, "'"));
  }
  return absl::OkStatus();
}

}  // namespace sealpool
