/*
 * fila — a small QR code encoder (ISO/IEC 18004) for the kiosk's tracking link.
 *
 * Deliberately limited to what the kiosk needs: byte mode (UTF-8), error
 * correction level M, versions 1–10 (up to 213 bytes, plenty for a URL).
 * Written for fila; no third-party code.
 *
 *   FilaQR.encode(text) → { version, size, modules } (modules[row][col], true = dark)
 *                          or null when the text does not fit in version 10.
 *   FilaQR.svg(text, { title }) → an <svg> element (built with DOM methods), or null.
 *
 * Also loadable with require() in node for testing.
 */
(function (root) {
  'use strict';

  // ------------------------------------------------------------------ tables (level M)

  // Total codewords (data + error correction) per version, 1-based index.
  const TOTAL_CODEWORDS = [0, 26, 44, 70, 100, 134, 172, 196, 242, 292, 346];
  // Error-correction codewords per block at level M.
  const EC_PER_BLOCK = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26];
  // Number of error-correction blocks at level M.
  const BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5];
  // Centre coordinates of the alignment patterns.
  const ALIGNMENT = [
    null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
    [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
  ];
  const MAX_VERSION = 10;
  const EC_LEVEL_M_BITS = 0; // format-information bits for level M ("00")

  const dataCodewords = (v) => TOTAL_CODEWORDS[v] - EC_PER_BLOCK[v] * BLOCKS[v];

  // ------------------------------------------------------------------ GF(256) and Reed–Solomon

  // Arithmetic in GF(2^8) with the QR primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D).
  const EXP = new Uint8Array(512);
  const LOG = new Uint8Array(256);
  (function buildTables() {
    let x = 1;
    for (let i = 0; i < 255; i++) {
      EXP[i] = x;
      LOG[x] = i;
      x <<= 1;
      if (x & 0x100) x ^= 0x11D;
    }
    for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  })();

  function gfMul(a, b) {
    if (a === 0 || b === 0) return 0;
    return EXP[LOG[a] + LOG[b]];
  }

  /** Generator polynomial (x − α^0)(x − α^1)…(x − α^(n−1)), highest degree first, leading 1 omitted. */
  function rsGenerator(n) {
    // poly[0] is the coefficient of x^n (always 1), poly[n] the constant term.
    let poly = [1];
    for (let i = 0; i < n; i++) {
      const next = new Array(poly.length + 1).fill(0);
      const root = EXP[i];
      for (let j = 0; j < poly.length; j++) {
        next[j] ^= poly[j];                 // × x
        next[j + 1] ^= gfMul(poly[j], root); // × α^i (minus is plus in GF(2^8))
      }
      poly = next;
    }
    return poly.slice(1);
  }

  /** Remainder of data(x)·x^n divided by the generator: the n error-correction codewords. */
  function rsRemainder(data, gen) {
    const n = gen.length;
    const rem = new Array(n).fill(0);
    for (const byte of data) {
      const factor = byte ^ rem[0];
      rem.shift();
      rem.push(0);
      if (factor !== 0) for (let i = 0; i < n; i++) rem[i] ^= gfMul(gen[i], factor);
    }
    return rem;
  }

  // ------------------------------------------------------------------ data codewords

  function utf8(text) {
    if (typeof TextEncoder !== 'undefined') return Array.from(new TextEncoder().encode(text));
    const bytes = [];
    const s = unescape(encodeURIComponent(text));
    for (let i = 0; i < s.length; i++) bytes.push(s.charCodeAt(i));
    return bytes;
  }

  function chooseVersion(byteCount) {
    for (let v = 1; v <= MAX_VERSION; v++) {
      const countBits = v <= 9 ? 8 : 16;
      if (4 + countBits + 8 * byteCount <= 8 * dataCodewords(v)) return v;
    }
    return 0;
  }

  /** Mode indicator, character count, data, terminator and padding, as codewords. */
  function buildData(bytes, version) {
    const bits = [];
    const put = (value, length) => { for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
    put(0x4, 4); // byte mode
    put(bytes.length, version <= 9 ? 8 : 16);
    for (const b of bytes) put(b, 8);
    const capacity = 8 * dataCodewords(version);
    put(0, Math.min(4, capacity - bits.length)); // terminator
    while (bits.length % 8) bits.push(0);
    const codewords = [];
    for (let i = 0; i < bits.length; i += 8) {
      let byte = 0;
      for (let j = 0; j < 8; j++) byte = (byte << 1) | bits[i + j];
      codewords.push(byte);
    }
    for (let pad = 0xEC; codewords.length < dataCodewords(version); pad ^= 0xEC ^ 0x11) codewords.push(pad);
    return codewords;
  }

  /** Splits into blocks, adds Reed–Solomon codewords and interleaves. */
  function addErrorCorrection(data, version) {
    const blockCount = BLOCKS[version];
    const ecLen = EC_PER_BLOCK[version];
    const total = TOTAL_CODEWORDS[version];
    const longBlocks = total % blockCount;           // these carry one extra data codeword
    const shortBlocks = blockCount - longBlocks;
    const shortDataLen = Math.floor(total / blockCount) - ecLen;
    const gen = rsGenerator(ecLen);

    const dataBlocks = [];
    const ecBlocks = [];
    let offset = 0;
    for (let b = 0; b < blockCount; b++) {
      const len = shortDataLen + (b < shortBlocks ? 0 : 1);
      const block = data.slice(offset, offset + len);
      offset += len;
      dataBlocks.push(block);
      ecBlocks.push(rsRemainder(block, gen));
    }

    const out = [];
    for (let i = 0; i <= shortDataLen; i++) {
      for (const block of dataBlocks) if (i < block.length) out.push(block[i]);
    }
    for (let i = 0; i < ecLen; i++) {
      for (const block of ecBlocks) out.push(block[i]);
    }
    return out;
  }

  // ------------------------------------------------------------------ matrix

  function makeGrid(size, value) {
    const grid = [];
    for (let r = 0; r < size; r++) grid.push(new Array(size).fill(value));
    return grid;
  }

  /** Function patterns (finders, separators, timing, alignment, dark module) and reserved areas. */
  function drawFunctionPatterns(version, size, modules, isFunction) {
    const set = (r, c, dark) => {
      if (r < 0 || c < 0 || r >= size || c >= size) return;
      modules[r][c] = dark;
      isFunction[r][c] = true;
    };

    // Finder patterns with their light separators.
    for (const [fr, fc] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
      for (let dr = -1; dr <= 7; dr++) {
        for (let dc = -1; dc <= 7; dc++) {
          const inside = dr >= 0 && dr <= 6 && dc >= 0 && dc <= 6;
          const ring = dr === 0 || dr === 6 || dc === 0 || dc === 6;
          const core = dr >= 2 && dr <= 4 && dc >= 2 && dc <= 4;
          set(fr + dr, fc + dc, inside && (ring || core));
        }
      }
    }

    // Timing patterns.
    for (let i = 8; i < size - 8; i++) {
      set(6, i, i % 2 === 0);
      set(i, 6, i % 2 === 0);
    }

    // Alignment patterns (skipping the three that would overlap the finders).
    const centres = ALIGNMENT[version];
    const last = centres.length - 1;
    centres.forEach((r, i) => {
      centres.forEach((c, j) => {
        if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
        for (let dr = -2; dr <= 2; dr++) {
          for (let dc = -2; dc <= 2; dc++) {
            set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
          }
        }
      });
    });

    // Reserve the format-information areas (filled in later) and the dark module.
    for (let i = 0; i <= 8; i++) {
      if (!isFunction[8][i]) set(8, i, false);
      if (!isFunction[i][8]) set(i, 8, false);
    }
    for (let i = 0; i < 8; i++) {
      set(8, size - 1 - i, false);
      set(size - 1 - i, 8, false);
    }
    set(size - 8, 8, true);

    // Version information (versions 7 and up).
    if (version >= 7) drawVersion(version, size, modules, isFunction);
  }

  /** Remainder of value·x^(degree of poly) modulo poly over GF(2), for BCH codes. */
  function bchRemainder(value, poly) {
    const polyBits = 31 - Math.clz32(poly);
    let v = value << polyBits;
    for (let bit = 31 - Math.clz32(v); bit >= polyBits; bit--) {
      if ((v >>> bit) & 1) v ^= poly << (bit - polyBits);
    }
    return v;
  }

  function drawVersion(version, size, modules, isFunction) {
    const bits = (version << 12) | bchRemainder(version, 0x1F25); // 18 bits
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      // Bottom-left block (rows a, column b) and top-right block (row b, columns a).
      modules[a][b] = dark; isFunction[a][b] = true;
      modules[b][a] = dark; isFunction[b][a] = true;
    }
  }

  function drawFormat(mask, size, modules) {
    const data = (EC_LEVEL_M_BITS << 3) | mask;
    const bits = ((data << 10) | bchRemainder(data, 0x537)) ^ 0x5412; // 15 bits
    const bit = (i) => ((bits >>> i) & 1) === 1;
    // Copy around the top-left finder.
    for (let i = 0; i <= 5; i++) modules[i][8] = bit(i);
    modules[7][8] = bit(6);
    modules[8][8] = bit(7);
    modules[8][7] = bit(8);
    for (let i = 9; i < 15; i++) modules[8][14 - i] = bit(i);
    // Second copy: under the top-right finder and beside the bottom-left one.
    for (let i = 0; i < 8; i++) modules[8][size - 1 - i] = bit(i);
    for (let i = 8; i < 15; i++) modules[size - 15 + i][8] = bit(i);
    modules[size - 8][8] = true; // the dark module
  }

  /** Places the codeword bits in the two-column zigzag, skipping function modules. */
  function placeData(codewords, size, modules, isFunction) {
    const totalBits = codewords.length * 8;
    let index = 0;
    let upward = true;
    for (let right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5; // the vertical timing pattern is not part of any pair
      for (let step = 0; step < size; step++) {
        const r = upward ? size - 1 - step : step;
        for (let k = 0; k < 2; k++) {
          const c = right - k;
          if (isFunction[r][c]) continue;
          let dark = false;
          if (index < totalBits) dark = ((codewords[index >>> 3] >>> (7 - (index & 7))) & 1) === 1;
          modules[r][c] = dark; // leftover remainder bits stay light (before masking)
          index++;
        }
      }
      upward = !upward;
    }
  }

  const MASKS = [
    (r, c) => (r + c) % 2 === 0,
    (r) => r % 2 === 0,
    (r, c) => c % 3 === 0,
    (r, c) => (r + c) % 3 === 0,
    (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
    (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
    (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
    (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
  ];

  function applyMask(mask, size, modules, isFunction) {
    const fn = MASKS[mask];
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        if (!isFunction[r][c] && fn(r, c)) modules[r][c] = !modules[r][c];
      }
    }
  }

  // ------------------------------------------------------------------ mask penalty

  function penalty(size, modules) {
    let score = 0;
    const line = (get) => {
      // N1: runs of five or more same-colour modules.
      let runColor = null;
      let run = 0;
      for (let i = 0; i < size; i++) {
        const v = get(i);
        if (v === runColor) {
          run++;
        } else {
          if (run >= 5) score += 3 + (run - 5);
          runColor = v;
          run = 1;
        }
      }
      if (run >= 5) score += 3 + (run - 5);
      // N3: 1:1:3:1:1 finder-like pattern with four light modules on one side
      // (modules outside the symbol count as light: the quiet zone).
      const at = (i) => (i >= 0 && i < size ? get(i) : false);
      for (let i = -4; i < size; i++) {
        const core = at(i) && !at(i + 1) && at(i + 2) && at(i + 3) && at(i + 4) && !at(i + 5) && at(i + 6);
        if (!core) continue;
        const before = !at(i - 1) && !at(i - 2) && !at(i - 3) && !at(i - 4);
        const after = !at(i + 7) && !at(i + 8) && !at(i + 9) && !at(i + 10);
        if (before || after) score += 40;
      }
    };
    for (let r = 0; r < size; r++) line((c) => modules[r][c]);
    for (let c = 0; c < size; c++) line((r) => modules[r][c]);

    // N2: 2×2 blocks of one colour.
    for (let r = 0; r < size - 1; r++) {
      for (let c = 0; c < size - 1; c++) {
        const v = modules[r][c];
        if (v === modules[r][c + 1] && v === modules[r + 1][c] && v === modules[r + 1][c + 1]) score += 3;
      }
    }

    // N4: balance of dark and light modules.
    let dark = 0;
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (modules[r][c]) dark++;
    const percent = (dark * 100) / (size * size);
    score += Math.floor(Math.abs(percent - 50) / 5) * 10;
    return score;
  }

  // ------------------------------------------------------------------ public API

  /** Encodes text; returns { version, size, mask, modules } or null if it is too long. */
  function encode(text, forcedMask) {
    const bytes = utf8(String(text));
    const version = chooseVersion(bytes.length);
    if (!version) return null;
    const size = 17 + 4 * version;
    const codewords = addErrorCorrection(buildData(bytes, version), version);

    const base = makeGrid(size, false);
    const isFunction = makeGrid(size, false);
    drawFunctionPatterns(version, size, base, isFunction);
    placeData(codewords, size, base, isFunction);

    let best = null;
    const masks = forcedMask === undefined ? [0, 1, 2, 3, 4, 5, 6, 7] : [forcedMask];
    for (const mask of masks) {
      const modules = base.map((row) => row.slice());
      applyMask(mask, size, modules, isFunction);
      drawFormat(mask, size, modules);
      const score = penalty(size, modules);
      if (!best || score < best.score) best = { version, size, mask, modules, score };
    }
    return best;
  }

  /** An <svg> of the code with a four-module quiet zone, or null when the text does not fit. */
  function svg(text, opts) {
    const qr = encode(text);
    if (!qr || typeof document === 'undefined') return null;
    const options = opts || {};
    const ns = 'http://www.w3.org/2000/svg';
    const quiet = 4;
    const dim = qr.size + 2 * quiet;
    const el = document.createElementNS(ns, 'svg');
    el.setAttribute('viewBox', '0 0 ' + dim + ' ' + dim);
    el.setAttribute('shape-rendering', 'crispEdges');
    el.setAttribute('class', options.className || 'qr');
    el.setAttribute('role', 'img');
    if (options.title) {
      el.setAttribute('aria-label', options.title);
      const title = document.createElementNS(ns, 'title');
      title.textContent = options.title;
      el.append(title);
    }
    const bg = document.createElementNS(ns, 'rect');
    bg.setAttribute('width', String(dim));
    bg.setAttribute('height', String(dim));
    bg.setAttribute('fill', '#ffffff');
    el.append(bg);
    // One path: a horizontal run of dark modules becomes one rectangle.
    let d = '';
    for (let r = 0; r < qr.size; r++) {
      let c = 0;
      while (c < qr.size) {
        if (!qr.modules[r][c]) { c++; continue; }
        const start = c;
        while (c < qr.size && qr.modules[r][c]) c++;
        d += 'M' + (start + quiet) + ' ' + (r + quiet) + 'h' + (c - start) + 'v1h-' + (c - start) + 'z';
      }
    }
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', '#000000');
    el.append(path);
    return el;
  }

  const FilaQR = { encode, svg, MAX_VERSION };
  if (typeof module !== 'undefined' && module.exports) module.exports = FilaQR;
  else root.FilaQR = FilaQR;
})(typeof window !== 'undefined' ? window : this);
