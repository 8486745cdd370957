// sealpool — frame rules from the unwind tables: a small DWARF call-frame
// interpreter (DWARF 5, section 6.4; the .eh_frame format of the Linux
// Standard Base) for the rules x86-64 code uses.

#include "boundscheck/internal/frame_rules.h"

#include <cstddef>
#include <cstring>

// libgcc's lookup of the frame description entry for a pc (GCC_3.0; in
// libgcc_s and libgcc_eh). It is not in <unwind.h>.
extern "C" {
struct sealpool_dwarf_eh_bases {
  void* tbase;
  void* dbase;
  void* func;
};
const void* _Unwind_Find_FDE(void* pc, sealpool_dwarf_eh_bases* bases);
}

namespace sealpool {
namespace boundscheck_internal {
namespace {

#if defined(__x86_64__)

constexpr int kRegs = 17;  // DWARF x86-64: 0-15 general, 16 return address
constexpr int kRbp = 6;
constexpr int kRsp = 7;
constexpr int kRa = 16;
constexpr int kMaxRememberedStates = 8;

// A bounded little-endian reader; any read past the end clears ok.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  bool Has(size_t n) {
    if (static_cast<size_t>(end - p) < n) ok = false;
    return ok;
  }
  uint8_t U8() {
    if (!Has(1)) return 0;
    return *p++;
  }
  uint64_t Fixed(size_t n) {
    if (!Has(n)) return 0;
    uint64_t v = 0;
    std::memcpy(&v, p, n);  // little-endian
    p += n;
    return v;
  }
  uint64_t Uleb() {
    uint64_t v = 0;
    for (int shift = 0; ok; shift += 7) {
      const uint8_t b = U8();
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
      if (shift > 70) ok = false;
    }
    return v;
  }
  int64_t Sleb() {
    uint64_t v = 0;
    int shift = 0;
    uint8_t b = 0;
    do {
      b = U8();
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if (shift > 70) ok = false;
    } while (ok && (b & 0x80) != 0);
    if (shift < 64 && (b & 0x40) != 0) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  void Skip(uint64_t n) {
    if (!Has(n)) return;
    p += n;
  }
  // Skips a pointer in DW_EH_PE encoding `enc` (its value is not needed).
  void SkipEncoded(uint8_t enc) {
    if (enc == 0xff) return;  // DW_EH_PE_omit
    if ((enc & 0x70) == 0x50) {  // DW_EH_PE_aligned: not used on x86-64
      ok = false;
      return;
    }
    switch (enc & 0x0f) {
      case 0x00: Skip(8); return;  // absptr
      case 0x01: Uleb(); return;
      case 0x09: Sleb(); return;
      case 0x02: case 0x0a: Skip(2); return;
      case 0x03: case 0x0b: Skip(4); return;
      case 0x04: case 0x0c: Skip(8); return;
      default: ok = false; return;
    }
  }
};

// v * factor, wrapping instead of overflowing on a malformed table (the
// result is then rejected by the range checks of Summarize()).
int64_t Scale(int64_t v, int64_t factor) {
  return static_cast<int64_t>(static_cast<uint64_t>(v) * static_cast<uint64_t>(factor));
}

enum class RuleKind : uint8_t { kSame, kUndefined, kOffset, kOther };
struct RegRule {
  RuleKind kind = RuleKind::kSame;
  int64_t offset = 0;  // kOffset: saved at CFA + offset
};

struct Row {
  int cfa_reg = -1;       // -1: a CFA expression (not understood)
  int64_t cfa_offset = 0;
  RegRule regs[kRegs];
};

struct Cie {
  uint64_t code_align = 1;
  int64_t data_align = 1;
  uint8_t fde_encoding = 0;  // DW_EH_PE_absptr by default
  bool has_augmentation_data = false;
  const uint8_t* insns = nullptr;
  const uint8_t* end = nullptr;
};

// The entry's length field: sets *body to its first byte after the length
// and returns its end, or nullptr (a zero-length terminator, or 64-bit
// lengths past any sane size).
const uint8_t* EntryBounds(const uint8_t* entry, const uint8_t** body) {
  uint32_t len32;
  std::memcpy(&len32, entry, 4);
  if (len32 == 0) return nullptr;
  if (len32 != 0xffffffffu) {
    *body = entry + 4;
    return entry + 4 + len32;
  }
  uint64_t len64;
  std::memcpy(&len64, entry + 4, 8);
  if (len64 == 0 || len64 > (uint64_t{1} << 32)) return nullptr;
  *body = entry + 12;
  return entry + 12 + len64;
}

bool ParseCie(const uint8_t* entry, Cie* cie) {
  const uint8_t* body = nullptr;
  const uint8_t* end = EntryBounds(entry, &body);
  if (end == nullptr) return false;
  Reader r{body, end};
  if (r.Fixed(4) != 0) return false;  // .eh_frame's CIE id: 4 bytes, 0
  const uint8_t version = r.U8();
  if (version != 1 && version != 3 && version != 4) return false;
  const char* aug = reinterpret_cast<const char*>(r.p);
  const size_t aug_len = strnlen(aug, static_cast<size_t>(end - r.p));
  r.Skip(aug_len + 1);
  if (version == 4) {
    r.U8();  // address size
    r.U8();  // segment selector size
  }
  cie->code_align = r.Uleb();
  cie->data_align = r.Sleb();
  const uint64_t ra = version == 1 ? r.U8() : r.Uleb();
  if (!r.ok || ra != kRa) return false;
  if (aug_len > 0) {
    if (aug[0] != 'z') return false;  // "eh" and other ancient forms
    cie->has_augmentation_data = true;
    const uint64_t data_len = r.Uleb();
    if (!r.Has(data_len)) return false;
    const uint8_t* data_end = r.p + data_len;
    for (size_t i = 1; i < aug_len && r.ok; ++i) {
      switch (aug[i]) {
        case 'R':
          cie->fde_encoding = r.U8();
          break;
        case 'L':
          r.U8();
          break;
        case 'P':
          r.SkipEncoded(r.U8());
          break;
        case 'B':  // AArch64 key B; 'G': memory-tagged frames
        case 'G':
          break;
        case 'S':  // a signal frame: its CFA is not an ordinary call's
        default:
          return false;
      }
    }
    if (!r.ok || r.p > data_end) return false;
    r.p = data_end;
  }
  cie->insns = r.p;
  cie->end = end;
  return r.ok;
}

// Runs call-frame instructions [insns, end) from location *loc while the
// location is at most `pc`. `initial` is the CIE's row (for restore), or
// nullptr while running the CIE's own instructions.
bool Execute(const uint8_t* insns, const uint8_t* end, const Cie& cie,
             uintptr_t pc, uintptr_t* loc, const Row* initial, Row* row) {
  Reader r{insns, end};
  Row stack[kMaxRememberedStates];
  int depth = 0;
  auto set = [&](uint64_t reg, RuleKind kind, int64_t off) {
    if (reg < kRegs) {
      row->regs[reg].kind = kind;
      row->regs[reg].offset = off;
    }
  };
  auto restore = [&](uint64_t reg) {
    if (reg < kRegs) {
      row->regs[reg] = initial != nullptr ? initial->regs[reg] : RegRule{};
    }
  };
  const int64_t da = cie.data_align;
  while (r.ok && r.p < r.end && *loc <= pc) {
    const uint8_t op = r.U8();
    const uint8_t low = op & 0x3f;
    switch (op & 0xc0) {
      case 0x40:  // DW_CFA_advance_loc
        *loc += low * cie.code_align;
        continue;
      case 0x80:  // DW_CFA_offset
        set(low, RuleKind::kOffset, Scale(static_cast<int64_t>(r.Uleb()), da));
        continue;
      case 0xc0:  // DW_CFA_restore
        restore(low);
        continue;
      default:
        break;
    }
    switch (op) {
      case 0x00:  // nop
        break;
      case 0x02:  // advance_loc1
        *loc += r.Fixed(1) * cie.code_align;
        break;
      case 0x03:
        *loc += r.Fixed(2) * cie.code_align;
        break;
      case 0x04:
        *loc += r.Fixed(4) * cie.code_align;
        break;
      case 0x05: {  // offset_extended
        const uint64_t reg = r.Uleb();
        set(reg, RuleKind::kOffset, Scale(static_cast<int64_t>(r.Uleb()), da));
        break;
      }
      case 0x06:  // restore_extended
        restore(r.Uleb());
        break;
      case 0x07:  // undefined
        set(r.Uleb(), RuleKind::kUndefined, 0);
        break;
      case 0x08:  // same_value
        set(r.Uleb(), RuleKind::kSame, 0);
        break;
      case 0x09: {  // register
        const uint64_t reg = r.Uleb();
        r.Uleb();
        set(reg, RuleKind::kOther, 0);
        break;
      }
      case 0x0a:  // remember_state
        if (depth == kMaxRememberedStates) return false;
        stack[depth++] = *row;
        break;
      case 0x0b:  // restore_state: the whole row, CFA rule included
        if (depth == 0) return false;
        *row = stack[--depth];
        break;
      case 0x0c:  // def_cfa
        row->cfa_reg = static_cast<int>(r.Uleb());
        row->cfa_offset = static_cast<int64_t>(r.Uleb());
        break;
      case 0x0d:  // def_cfa_register
        row->cfa_reg = static_cast<int>(r.Uleb());
        break;
      case 0x0e:  // def_cfa_offset
        row->cfa_offset = static_cast<int64_t>(r.Uleb());
        break;
      case 0x0f:  // def_cfa_expression
        row->cfa_reg = -1;
        r.Skip(r.Uleb());
        break;
      case 0x10: {  // expression
        const uint64_t reg = r.Uleb();
        r.Skip(r.Uleb());
        set(reg, RuleKind::kOther, 0);
        break;
      }
      case 0x11: {  // offset_extended_sf
        const uint64_t reg = r.Uleb();
        set(reg, RuleKind::kOffset, Scale(r.Sleb(), da));
        break;
      }
      case 0x12:  // def_cfa_sf
        row->cfa_reg = static_cast<int>(r.Uleb());
        row->cfa_offset = Scale(r.Sleb(), da);
        break;
      case 0x13:  // def_cfa_offset_sf
        row->cfa_offset = Scale(r.Sleb(), da);
        break;
      case 0x14:  // val_offset
      case 0x15: {  // val_offset_sf
        const uint64_t reg = r.Uleb();
        if (op == 0x14) {
          r.Uleb();
        } else {
          r.Sleb();
        }
        set(reg, RuleKind::kOther, 0);
        break;
      }
      case 0x16: {  // val_expression
        const uint64_t reg = r.Uleb();
        r.Skip(r.Uleb());
        set(reg, RuleKind::kOther, 0);
        break;
      }
      case 0x2e:  // GNU_args_size
        r.Uleb();
        break;
      case 0x2f: {  // GNU_negative_offset_extended
        const uint64_t reg = r.Uleb();
        set(reg, RuleKind::kOffset, Scale(Scale(static_cast<int64_t>(r.Uleb()), da), -1));
        break;
      }
      default:  // DW_CFA_set_loc and anything newer: not understood
        return false;
    }
  }
  return r.ok;
}

// The row's answer in FrameRule's terms.
FrameRule Summarize(const Row& row) {
  FrameRule out;
  const RegRule& ra = row.regs[kRa];
  if (ra.kind != RuleKind::kOffset || ra.offset != -8) return out;
  if (row.cfa_offset < 8 || row.cfa_offset > (int64_t{1} << 31) ||
      row.cfa_offset % 8 != 0) {
    return out;
  }
  FrameRule::Cfa cfa;
  if (row.cfa_reg == kRsp) {
    cfa = FrameRule::kRsp;
  } else if (row.cfa_reg == kRbp) {
    cfa = FrameRule::kRbp;
  } else {
    return out;
  }
  const RegRule& bp = row.regs[kRbp];
  if (bp.kind == RuleKind::kOffset) {
    if (bp.offset >= 0 || bp.offset % 8 != 0 || -bp.offset / 8 > 0xffff) {
      out.rbp_lost = true;
    } else {
      out.rbp_slot = static_cast<uint16_t>(-bp.offset / 8);
    }
  } else if (bp.kind != RuleKind::kSame) {
    out.rbp_lost = true;
  }
  // The return address and the registers saved right below it.
  int slots = 1;
  for (bool grew = true; grew && slots < kRegs;) {
    grew = false;
    const int64_t next = -8 * (slots + 1);
    for (int reg = 0; reg < kRa; ++reg) {
      if (reg != kRsp && row.regs[reg].kind == RuleKind::kOffset &&
          row.regs[reg].offset == next) {
        ++slots;
        grew = true;
        break;
      }
    }
  }
  out.cfa = cfa;
  out.cfa_offset = static_cast<uint32_t>(row.cfa_offset);
  out.saved_slots = static_cast<uint16_t>(slots);
  return out;
}

#endif  // __x86_64__

}  // namespace

FrameRule FindFrameRule(uintptr_t pc) {
#if defined(__x86_64__)
  sealpool_dwarf_eh_bases bases{};
  const auto* fde = static_cast<const uint8_t*>(
      _Unwind_Find_FDE(reinterpret_cast<void*>(pc), &bases));
  if (fde == nullptr) return FrameRule{};
  const uint8_t* body = nullptr;
  const uint8_t* end = EntryBounds(fde, &body);
  if (end == nullptr || body != fde + 4) return FrameRule{};
  int32_t cie_delta;
  std::memcpy(&cie_delta, body, 4);
  if (cie_delta <= 0) return FrameRule{};
  Cie cie;
  if (!ParseCie(body - cie_delta, &cie)) return FrameRule{};
  Reader r{body + 4, end};
  r.SkipEncoded(cie.fde_encoding);         // pc_begin (bases.func has it)
  r.SkipEncoded(cie.fde_encoding & 0x0f);  // pc_range
  if (cie.has_augmentation_data) r.Skip(r.Uleb());
  if (!r.ok) return FrameRule{};

  Row row;
  uintptr_t loc = reinterpret_cast<uintptr_t>(bases.func);
  if (!Execute(cie.insns, cie.end, cie, ~uintptr_t{0}, &loc, nullptr, &row)) {
    return FrameRule{};
  }
  const Row initial = row;
  loc = reinterpret_cast<uintptr_t>(bases.func);
  if (!Execute(r.p, end, cie, pc, &loc, &initial, &row)) return FrameRule{};
  return Summarize(row);
#else
  (void)pc;
  return FrameRule{};
#endif
}

}  // namespace boundscheck_internal
}  // namespace sealpool
