/* The convolution explorer: every convolution type of the book, live, in plain JavaScript and SVG.
 *
 * Every element <div class="conv-explorer"></div> of a page that loads this script becomes an
 * explorer. Data attributes preset it: data-type (one of TYPE_NAMES), data-input, data-kernel,
 * data-stride, data-padding (a number or "same"), data-dilation, data-output-padding,
 * data-in-channels, data-out-channels, data-groups, data-multiplier, data-bias ("false" for
 * none); data-lock="type" hides the type picker. The script loads explorer.css from beside itself.
 *
 * window.convExplorer.compute(settings) is the arithmetic behind every picture: output size and
 * its formula, parameters and MACs beside the standard convolution, PyTorch's error for invalid
 * settings, which input channels each output channel reads and which input cells (and kernel
 * taps) each output cell reads. tests/browser/test_explorer.py checks it against conv_tutorial
 * (shapes, cost, the NumPy backend) and torch over thousands of settings.
 */
(function () {
  'use strict';
  if (window.convExplorer) return;  // a page with two embeds loads the script twice

  const RANGES = {input: [1, 10], kernel: [1, 7], stride: [1, 4], padding: [0, 4], dilation: [1, 4],
    outputPadding: [0, 3], inChannels: [1, 8], outChannels: [1, 8], groups: [1, 8], multiplier: [1, 3]};
  const LABELS = {input: 'input size (H = W)', kernel: 'kernel_size', stride: 'stride', padding: 'padding',
    dilation: 'dilation', outputPadding: 'output_padding', inChannels: 'in_channels',
    outChannels: 'out_channels', groups: 'groups', multiplier: 'filters per channel'};
  const DEFAULTS = {input: 5, kernel: 3, stride: 1, padding: 0, dilation: 1, outputPadding: 0, inChannels: 2,
    outChannels: 3, groups: 1, multiplier: 1, bias: true};
  const SPATIAL = ['input', 'kernel', 'stride', 'padding', 'dilation'];
  const CHANNELS = ['inChannels', 'outChannels'];
  const TYPES = {
    standard: {name: 'Standard', controls: [...SPATIAL, ...CHANNELS], preset: {},
      blurb: 'Every output channel filters every input channel over a k × k window: nn.Conv2d.'},
    strided: {name: 'Strided', controls: [...SPATIAL, ...CHANNELS], preset: {input: 7, stride: 2}, min: {stride: 2},
      blurb: 'The window jumps s cells between outputs, so the output shrinks about s times.'},
    padded: {name: 'Padded', controls: [...SPATIAL, ...CHANNELS], preset: {padding: 1}, min: {padding: 1},
      blurb: "Zeros around the input (dashed) let the window reach the border; 'same' keeps the size."},
    dilated: {name: 'Dilated (atrous)', controls: [...SPATIAL, ...CHANNELS], preset: {input: 7, dilation: 2},
      min: {dilation: 2}, blurb: 'The taps are spread d cells apart: a k × k kernel spans d(k − 1) + 1 cells.'},
    transposed: {name: 'Transposed', controls: [...SPATIAL, 'outputPadding', ...CHANNELS],
      preset: {input: 3, stride: 2, padding: 1, outputPadding: 1},
      blurb: 'Each input cell scatters a copy of the kernel onto the output, s cells apart; padding crops the output.'},
    grouped: {name: 'Grouped', controls: [...SPATIAL, ...CHANNELS, 'groups'],
      preset: {inChannels: 4, outChannels: 4, groups: 2, padding: 1},
      blurb: 'The channels split into groups; each output channel reads only the input channels of its group.'},
    depthwise: {name: 'Depthwise', controls: [...SPATIAL, 'inChannels', 'multiplier'],
      preset: {inChannels: 3, padding: 1},
      blurb: 'groups = in_channels: every filter reads one input channel.'},
    'depthwise-separable': {name: 'Depthwise separable', controls: [...SPATIAL, ...CHANNELS],
      preset: {inChannels: 3, outChannels: 4, padding: 1},
      blurb: 'A depthwise k × k step filters each channel, then a 1 × 1 step mixes the channels.'},
    'spatially-separable': {name: 'Spatially separable', controls: [...SPATIAL, ...CHANNELS],
      preset: {padding: 1},
      blurb: 'A k × 1 step down the columns, then a 1 × k step along the rows: the same window, fewer weights.'},
    pointwise: {name: '1 × 1 (pointwise)', controls: ['input', 'stride', ...CHANNELS], preset: {},
      blurb: 'A 1 × 1 kernel: each output cell mixes the channels of one input cell.'},
  };
  const TYPE_NAMES = Object.keys(TYPES);
  // Channel planes: one colour per group, none of them the blue of a read cell or the orange of the followed one.
  const GROUP_COLOURS = ['#2ca02c', '#9467bd', '#8c564b', '#d62790', '#7f7f00', '#0f9aa8', '#b8860b', '#555555'];
  const ONE_GROUP = '#555555';

  const floorDiv = (a, b) => Math.floor(a / b);
  const fmt = v => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

  // --- The arithmetic ------------------------------------------------------------------------

  /** Every field of a settings object, the ones the type fixes set to what it fixes. */
  function normalize(settings) {
    const type = TYPES[settings.type] ? settings.type : 'standard';
    const preset = TYPES[type].preset;
    const s = {type};
    for (const key of Object.keys(DEFAULTS)) {
      let value = key in settings ? settings[key] : (key in preset ? preset[key] : DEFAULTS[key]);
      if (key === 'bias') value = value !== false && value !== 'false';
      else if (!(key === 'padding' && value === 'same')) value = parseInt(value, 10);
      s[key] = value;
    }
    const controls = TYPES[type].controls;
    if (!controls.includes('groups')) s.groups = 1;
    if (!controls.includes('outputPadding')) s.outputPadding = 0;
    if (!controls.includes('multiplier')) s.multiplier = 1;
    if (type === 'pointwise') Object.assign(s, {kernel: 1, padding: 0, dilation: 1});
    if (type === 'depthwise') Object.assign(s, {groups: s.inChannels, outChannels: s.inChannels * s.multiplier});
    return s;
  }

  /** The torch layers the settings make, in order: what the code builds and what can fail. */
  function layersOf(s) {
    const sq = v => [v, v];
    const pad = s.padding === 'same' ? 'same' : sq(s.padding);
    const conv = (ci, co, k, st, p, d, g, note) => ({kind: 'conv', ci, co, k, s: st, p, d, g, note});
    const ci = s.inChannels, co = s.outChannels;
    switch (s.type) {
      case 'transposed':
        return [{kind: 'convT', ci, co, k: sq(s.kernel), s: sq(s.stride), p: pad, d: sq(s.dilation), g: 1,
          op: sq(s.outputPadding)}];
      case 'depthwise-separable':
        return [conv(ci, ci, sq(s.kernel), sq(s.stride), pad, sq(s.dilation), ci, 'depthwise'),
          conv(ci, co, [1, 1], [1, 1], [0, 0], [1, 1], 1, 'pointwise')];
      case 'spatially-separable':
        return [conv(ci, co, [s.kernel, 1], [s.stride, 1], pad === 'same' ? pad : [s.padding, 0], [s.dilation, 1], 1,
          `column: ${s.kernel} x 1`),
        conv(co, co, [1, s.kernel], [1, s.stride], pad === 'same' ? pad : [0, s.padding], [1, s.dilation], 1,
          `row: 1 x ${s.kernel}`)];
      default:
        return [conv(ci, co, sq(s.kernel), sq(s.stride), pad, sq(s.dilation), s.groups)];
    }
  }

  /** Padding before and after along one axis; 'same' puts the odd zero after, as PyTorch does. */
  function padPair(p, axis, k, d) {
    if (p !== 'same') return [p[axis], p[axis]];
    const total = d[axis] * (k[axis] - 1);
    return [floorDiv(total, 2), total - floorDiv(total, 2)];
  }

  /** PyTorch's error for these layers on an input (1, C_in, n, n), or the output size [H, W]. */
  function runLayers(layers, n) {
    for (const L of layers) {  // the constructors' checks (nn.Conv2d.__init__)
      if (L.ci % L.g) return {error: ['ValueError', 'in_channels must be divisible by groups']};
      if (L.co % L.g) return {error: ['ValueError', 'out_channels must be divisible by groups']};
      if (L.kind === 'conv' && L.p === 'same' && (L.s[0] !== 1 || L.s[1] !== 1)) {
        return {error: ['ValueError', "padding='same' is not supported for strided convolutions"]};
      }
    }
    let size = [n, n];
    for (const L of layers) {  // the forward pass's checks
      if (L.kind === 'conv') {
        const padded = [0, 1].map(a => size[a] + padPair(L.p, a, L.k, L.d).reduce((x, y) => x + y));
        const span = [0, 1].map(a => L.d[a] * (L.k[a] - 1) + 1);
        if (padded[0] < span[0] || padded[1] < span[1]) {
          return {error: ['RuntimeError', `Calculated padded input size per channel: (${padded[0]} x ${padded[1]}). ` +
            `Kernel size: (${span[0]} x ${span[1]}). Kernel size can't be greater than actual input size`]};
        }
        size = [0, 1].map(a => floorDiv(padded[a] - span[a], L.s[a]) + 1);
      } else {
        if (L.p === 'same') {
          return {error: ['TypeError', "conv_transpose2d(): argument 'padding' (position 5) must be tuple of ints, " +
            'but found element of type str at pos 0']};
        }
        if ([0, 1].some(a => L.op[a] >= L.s[a] && L.op[a] >= L.d[a])) {
          return {error: ['RuntimeError', 'output padding must be smaller than either stride or dilation, but got ' +
            `output_padding_height: ${L.op[0]} output_padding_width: ${L.op[1]} stride_height: ${L.s[0]} ` +
            `stride_width: ${L.s[1]} dilation_height: ${L.d[0]} dilation_width: ${L.d[1]}`]};
        }
        const out = [0, 1].map(a => (size[a] - 1) * L.s[a] - 2 * L.p[a] + L.d[a] * (L.k[a] - 1) + L.op[a] + 1);
        if (out[0] <= 0 || out[1] <= 0) {
          return {error: ['RuntimeError', `Given input size per channel: (${size[0]} x ${size[1]}). ` +
            `Calculated output size per channel: (${out[0]} x ${out[1]}). Output size is too small`]};
        }
        size = out;
      }
    }
    return {size};
  }

  /** Python for one layer: `nn.Conv2d(3, 8, 3, stride=2, padding=1)`, non-default arguments only. */
  function layerCode(L, bias) {
    const pair = v => (v[0] === v[1] ? String(v[0]) : `(${v[0]}, ${v[1]})`);
    const args = [L.ci, L.co, pair(L.k)];
    const keyword = (name, v, dflt) => { if (pair(v) !== String(dflt)) args.push(`${name}=${pair(v)}`); };
    keyword('stride', L.s, 1);
    if (L.p === 'same') args.push('padding="same"'); else keyword('padding', L.p, 0);
    if (L.kind === 'convT') keyword('output_padding', L.op, 0);
    if (L.g !== 1) args.push(`groups=${L.g}`);
    if (L.kind === 'conv') keyword('dilation', L.d, 1);
    if (!bias) args.push('bias=False');
    if (L.kind === 'convT') keyword('dilation', L.d, 1);  // ConvTranspose2d takes dilation after bias
    return `nn.${L.kind === 'conv' ? 'Conv2d' : 'ConvTranspose2d'}(${args.join(', ')})`;
  }

  function codeOf(s, layers, run) {
    const lines = ['import torch', 'from torch import nn', ''];
    const failsOnBuild = run.error && run.error[0] === 'ValueError';
    const note = failsOnBuild ? `  # ${run.error.join(': ')}` : '';
    if (layers.length === 1) {
      lines.push(`layer = ${layerCode(layers[0], s.bias)}${note}`);
    } else {
      lines.push('layer = nn.Sequential(');
      const rows = layers.map(L => `    ${layerCode(L, s.bias)},`);
      const width = Math.max(...rows.map(r => r.length));
      layers.forEach((L, i) => lines.push(`${rows[i].padEnd(width)}  # ${L.note}`));
      lines.push(`)${note}`);
    }
    lines.push(`x = torch.randn(1, ${s.inChannels}, ${s.input}, ${s.input})  # (N, C_in, H, W)`);
    if (run.error && !failsOnBuild) lines.push(`y = layer(x)  # ${run.error.join(': ')}`);
    else if (run.error) lines.push('y = layer(x)');
    else {
      lines.push('y = layer(x)');
      lines.push(`print(y.shape)  # torch.Size([1, ${s.outChannels}, ${run.size[0]}, ${run.size[1]}])`);
    }
    return lines.join('\n');
  }

  /** The output-size formula, with the reader's numbers in it and as Python arithmetic. */
  function formulaOf(s, geometry) {
    let template, note = '';
    if (s.type === 'transposed') {
      template = '({i} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1';
    } else if (s.padding === 'same') {
      template = '⌊({i} + {pb} + {pa} − {d}·({k} − 1) − 1) / {s}⌋ + 1';
      note = `padding='same': d·(k − 1) = ${geometry.before + geometry.after} zeros, ${geometry.before} before and ` +
        `${geometry.after} after`;
    } else {
      template = '⌊({i} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1';
    }
    const symbols = {i: 'i', s: 's', p: 'p', d: 'd', k: 'k', op: 'output_padding', pb: 'p_before', pa: 'p_after'};
    const values = {i: s.input, s: s.stride, p: s.padding, d: s.dilation, k: s.kernel, op: s.outputPadding,
      pb: geometry.before, pa: geometry.after};
    const fill = table => template.replace(/\{(\w+)\}/g, (m, key) => table[key]);
    const substituted = fill(values);
    const expression = substituted.replace(/⌊/g, 'floor(').replace(/⌋/g, ')').replace(/·/g, '*').replace(/−/g, '-');
    let middle = '';
    if (s.type !== 'transposed') {
      const numerator = s.input + geometry.before + geometry.after - s.dilation * (s.kernel - 1) - 1;
      middle = ` = ⌊${numerator} / ${s.stride}⌋ + 1`;
    }
    const steps = {'depthwise-separable': 'the depthwise step sets the size, the 1 × 1 step keeps it',
      'spatially-separable': 'the k × 1 step sets the height, the 1 × k step the width'}[s.type] || '';
    return {symbolic: `o = ${fill(symbols)}`, substituted: `o = ${substituted}${middle} = ${geometry.output}`,
      expression, value: geometry.output, note: [note, steps].filter(Boolean).join('; ')};
  }

  /** Parameters and MACs of the layer and of the standard convolution it is set beside. */
  function costOf(s, o) {
    const b = s.bias ? 1 : 0, k2 = s.kernel * s.kernel, ci = s.inChannels, co = s.outChannels, n = s.input;
    let params, macs;
    switch (s.type) {
      case 'transposed':
        params = ci * co * k2 + b * co; macs = n * n * ci * co * k2; break;
      case 'depthwise-separable':
        params = ci * k2 + b * ci + co * ci + b * co; macs = ci * o * o * k2 + co * ci * o * o; break;
      case 'spatially-separable':  // the middle has out_channels channels
        params = co * ci * s.kernel + b * co + co * co * s.kernel + b * co;
        macs = co * o * n * ci * s.kernel + co * o * o * co * s.kernel; break;
      default:
        params = co * (ci / s.groups) * k2 + b * co; macs = co * o * o * (ci / s.groups) * k2;
    }
    let standard;
    if (s.type === 'transposed') {  // the convolution this layer is the transpose of, run on its output
      const back = floorDiv(o + 2 * s.padding - s.dilation * (s.kernel - 1) - 1, s.stride) + 1;
      const L = {kind: 'conv', ci: co, co: ci, k: [s.kernel, s.kernel], s: [s.stride, s.stride],
        p: [s.padding, s.padding], d: [s.dilation, s.dilation], g: 1};
      standard = {title: `the convolution it transposes, on the ${o} × ${o} output`, code: layerCode(L, s.bias),
        params: ci * co * k2 + b * ci, macs: ci * back * back * co * k2};
    } else {
      const L = {kind: 'conv', ci, co, k: [s.kernel, s.kernel], s: [s.stride, s.stride],
        p: s.padding === 'same' ? 'same' : [s.padding, s.padding], d: [s.dilation, s.dilation], g: 1};
      standard = {title: 'the standard convolution of the same shape', code: layerCode(L, s.bias),
        params: co * ci * k2 + b * co, macs: co * o * o * ci * k2};
    }
    return {params, macs, standard};
  }

  /** Where the kernel sits: padding, output size, and the maps between output and input cells. */
  function geometryOf(s, output) {
    const n = s.input, k = s.kernel, st = s.stride, d = s.dilation;
    if (s.type === 'transposed') {
      const p = s.padding, full = (n - 1) * st + d * (k - 1) + 1;
      return {transposed: true, n, k, output, before: p, after: p, full,
        // output cell (i, j) gathers input (y, x) through tap (u, v) where y·s + u·d − p = i
        gather(i, j) {
          const cells = [];
          for (let u = 0; u < k; u++) {
            const ti = i + p - u * d;
            if (ti < 0 || ti % st || ti / st >= n) continue;
            for (let v = 0; v < k; v++) {
              const tj = j + p - v * d;
              if (tj < 0 || tj % st || tj / st >= n) continue;
              cells.push({y: ti / st, x: tj / st, tap: u * k + v, outside: false});
            }
          }
          return cells;
        },
        scatter(y, x) {
          const cells = [];
          for (let u = 0; u < k; u++) {
            for (let v = 0; v < k; v++) {
              const i = y * st + u * d - p, j = x * st + v * d - p;
              cells.push({i, j, tap: u * k + v, outside: i < 0 || j < 0 || i >= output || j >= output});
            }
          }
          return cells;
        }};
    }
    const [before, after] = padPair(s.padding === 'same' ? 'same' : [s.padding, s.padding], 0, [k, k], [d, d]);
    return {transposed: false, n, k, output, before, after,
      gather(i, j) {
        const cells = [];
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            const y = i * st + u * d - before, x = j * st + v * d - before;
            cells.push({y, x, tap: u * k + v, outside: y < 0 || x < 0 || y >= n || x >= n});
          }
        }
        return cells;
      },
      scatter(y, x) {
        const cells = [];
        for (let u = 0; u < k; u++) {
          const ti = y + before - u * d;
          if (ti < 0 || ti % st || ti / st >= output) continue;
          for (let v = 0; v < k; v++) {
            const tj = x + before - v * d;
            if (tj < 0 || tj % st || tj / st >= output) continue;
            cells.push({i: ti / st, j: tj / st, tap: u * k + v, outside: false});
          }
        }
        return cells;
      }};
  }

  /** The input channels output channel `o` reads. */
  function channelsRead(s, o) {
    const all = Array.from({length: s.inChannels}, (_, c) => c);
    if (s.type === 'depthwise') return [floorDiv(o, s.multiplier)];
    if (s.groups === 1) return all;
    const group = floorDiv(o, s.outChannels / s.groups), size = s.inChannels / s.groups;
    return all.slice(group * size, (group + 1) * size);
  }

  function groupOfInput(s, c) {
    if (s.type === 'depthwise') return c;
    return s.groups > 1 ? floorDiv(c, s.inChannels / s.groups) : 0;
  }

  function groupOfOutput(s, o) {
    if (s.type === 'depthwise') return floorDiv(o, s.multiplier);
    return s.groups > 1 ? floorDiv(o, s.outChannels / s.groups) : 0;
  }

  /**
   * Everything the explorer shows for one setting. With {cells: true} the result also holds
   * `reads`: a flat list of (output row, output col, input row, input col, tap) for every input
   * cell (not padding) each output cell reads, tap = u·k + v of the k × k kernel.
   */
  function compute(settings, options) {
    const s = normalize(settings || {});
    const layers = layersOf(s);
    const run = runLayers(layers, s.input);
    const result = {type: s.type, settings: s, code: codeOf(s, layers, run), inputSize: s.input};
    if (run.error) {
      return Object.assign(result, {ok: false, error: {type: run.error[0], message: run.error[1]},
        errorText: run.error.join(': '), outputSize: null});
    }
    const o = run.size[0];
    const geometry = geometryOf(s, o);
    Object.assign(result, {ok: true, error: null, errorText: '', outputSize: o, geometry,
      padding: [geometry.before, geometry.after], formula: formulaOf(s, geometry)}, costOf(s, o));
    const reads = [];  // from the smaller grid: a transposed convolution's output can be far larger
    if (geometry.transposed) {
      for (let y = 0; y < s.input; y++) {
        for (let x = 0; x < s.input; x++) {
          for (const c of geometry.scatter(y, x)) if (!c.outside) reads.push(c.i, c.j, y, x, c.tap);
        }
      }
    } else {
      for (let i = 0; i < o; i++) {
        for (let j = 0; j < o; j++) {
          for (const c of geometry.gather(i, j)) if (!c.outside) reads.push(i, j, c.y, c.x, c.tap);
        }
      }
    }
    // An output whose every tap falls on padding reads no input channel at all.
    result.channelMap = Array.from({length: s.outChannels}, (_, c) => (reads.length ? channelsRead(s, c) : []));
    if (options && options.cells) result.reads = reads;
    return result;
  }

  /** The slider range of every control of a type: {name: [min, max]}; padding also takes 'same'. */
  function controlsOf(type) {
    const t = TYPES[type], ranges = {};
    for (const name of t.controls) ranges[name] = [(t.min && t.min[name]) || RANGES[name][0], RANGES[name][1]];
    return ranges;
  }

  function defaultsOf(type) {
    return normalize(Object.assign({type}, TYPES[type].preset));
  }

  // --- The view --------------------------------------------------------------------------------

  const CELL = 20;  // SVG units per cell; the SVG scales down to the screen
  const SVG_NS = 'http://www.w3.org/2000/svg';
  let count = 0;

  function svgEl(name, attrs) {
    const el = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
    return el;
  }

  /**
   * A grid of cells in an SVG, rows r0 .. r0 + rows - 1 (negative rows: padding or cropped cells),
   * behind it one plane per channel. Cells are <rect data-r data-c> whose class says what they are.
   */
  function drawGrid(svg, spec) {
    const planes = Math.min(spec.planes.length, 24);
    const STACK = planes > 12 ? 3 : 5;  // offset between stacked channel planes
    const depth = (planes - 1) * STACK;
    const width = spec.cols * CELL + depth + 2, height = spec.rows * CELL + depth + 2;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.style.maxWidth = `${Math.round(width * 1.6)}px`;  // small grids grow, large ones shrink to the screen
    svg.closest('.cx-panel').style.flex = `${width} 1 ${width}px`;  // panels side by side keep one cell size
    svg.textContent = '';
    const cells = new Map();
    for (let t = planes - 1; t >= 1; t--) {
      svg.appendChild(svgEl('rect', {x: 1 + t * STACK, y: 1 + depth - t * STACK, width: spec.cols * CELL,
        height: spec.rows * CELL, class: 'cx-plane', 'data-plane': t, style: `--g:${spec.planes[t]}`}));
    }
    const front = svgEl('g', {transform: `translate(1 ${1 + depth})`});
    front.appendChild(svgEl('rect', {x: 0, y: 0, width: spec.cols * CELL, height: spec.rows * CELL,
      class: 'cx-plane cx-front', 'data-plane': 0, style: `--g:${spec.planes[0]}`}));
    for (let r = 0; r < spec.rows; r++) {
      for (let c = 0; c < spec.cols; c++) {
        const row = r + spec.r0, col = c + spec.r0;
        const g = svgEl('g', {class: `cx-cell ${spec.kind(row, col)}`, 'data-r': row, 'data-c': col,
          transform: `translate(${c * CELL} ${r * CELL})`});
        g.appendChild(svgEl('rect', {x: 1, y: 1, width: CELL - 2, height: CELL - 2, rx: 2}));
        const label = svgEl('text', {x: CELL / 2, y: CELL / 2 + 3.5});
        g.appendChild(label);
        front.appendChild(g);
        cells.set(`${row},${col}`, g);
      }
    }
    svg.appendChild(front);
    return {cells, planes: svg.querySelectorAll('.cx-plane'), marked: []};
  }

  function mark(grid, key, classes, text) {
    const g = grid.cells.get(key);
    if (!g) return;
    g.classList.add(...classes);
    if (text !== undefined) g.lastChild.textContent = text;
    grid.marked.push(g);
  }

  function unmarkAll(grid) {
    for (const g of grid.marked) {
      g.classList.remove('cx-hit', 'cx-sel', 'cx-tap-pad', 'cx-tap-off');
      g.lastChild.textContent = '';
    }
    grid.marked = [];
  }

  function field(id, name, range, value) {
    return `<div class="cx-field" data-name="${name}"><label for="${id}-${name}">${LABELS[name]}</label>` +
      `<input type="range" id="${id}-${name}" name="${name}" min="${range[0]}" max="${range[1]}" step="1" ` +
      `value="${value}"><output for="${id}-${name}" id="${id}-${name}-value">${value}</output></div>`;
  }

  function readPreset(data) {
    const preset = {};
    const names = {input: 'input', kernel: 'kernel', stride: 'stride', padding: 'padding', dilation: 'dilation',
      outputPadding: 'outputPadding', inChannels: 'inChannels', outChannels: 'outChannels', groups: 'groups',
      multiplier: 'multiplier', bias: 'bias'};
    for (const [key, attr] of Object.entries(names)) if (data[attr] !== undefined) preset[key] = data[attr];
    return preset;
  }

  const HINTS = {
    'in_channels must be divisible by groups': 'Each group takes in_channels / groups input channels: choose groups that divide in_channels.',
    'out_channels must be divisible by groups': 'Each group makes out_channels / groups output channels: choose groups that divide out_channels.',
    "padding='same' is not supported for strided convolutions": "With a stride the output cannot keep the input's size: give padding as a number.",
    'Kernel size': 'The (dilated) kernel is larger than the padded input: it fits nowhere. Add padding, or shrink the kernel or the dilation.',
    'output padding': 'output_padding picks one of the stride s input sizes a convolution maps to the same size: it must be below the stride (or the dilation).',
    'Output size is too small': 'The padding crops away the whole output: lower the padding. (On a CPU, the ' +
      "oneDNN path PyTorch takes for larger kernels says 'could not construct a memory descriptor using a format " +
      "tag' instead, or returns an empty tensor when the size is exactly 0.)",
    'conv_transpose2d()': "nn.ConvTranspose2d has no padding='same': give padding as a number.",
  };

  function mount(root) {
    if (root.dataset.explorerMounted) return null;
    root.dataset.explorerMounted = 'true';
    const id = `cx${++count}`;
    const data = root.dataset;
    const startType = TYPES[data.type] ? data.type : 'standard';
    let settings = normalize(Object.assign(defaultsOf(startType), readPreset(data), {type: startType}));
    let result, grids, view = 'gather', sel = {i: 0, j: 0, y: 0, x: 0, o: 0, c: 0};
    root.classList.add('cx');
    root.innerHTML =
      `<div class="cx-top"${data.lock === 'type' ? ' hidden' : ''}><label for="${id}-type">Convolution type</label>` +
      `<select id="${id}-type">${TYPE_NAMES.map(t => `<option value="${t}">${TYPES[t].name}</option>`).join('')}</select></div>` +
      `<p class="cx-blurb"></p><div class="cx-controls"></div>` +
      `<div class="cx-error" role="alert" hidden></div>` +
      `<div class="cx-result"><div class="cx-size"></div>` +
      `<div class="cx-view" role="radiogroup" aria-label="What to follow">` +
      `<label><input type="radio" name="${id}-view" value="gather" checked> one output cell: the inputs it reads</label>` +
      `<label><input type="radio" name="${id}-view" value="scatter"> one input cell: the outputs it reaches</label></div>` +
      `<div class="cx-channel"></div>` +
      `<div class="cx-stepper"><button type="button" data-step="-1" aria-label="previous cell">◀ previous</button>` +
      `<button type="button" data-step="1" aria-label="next cell">next ▶</button></div>` +
      `<p class="cx-selected" aria-live="polite"></p>` +
      `<div class="cx-panels">` +
      `<figure class="cx-panel cx-input-panel"><figcaption></figcaption><div class="cx-svg" tabindex="0"><svg role="img"></svg></div></figure>` +
      `<figure class="cx-panel cx-kernel-panel"><figcaption></figcaption><div class="cx-svg"><svg role="img"></svg></div></figure>` +
      `<figure class="cx-panel cx-output-panel"><figcaption></figcaption><div class="cx-svg" tabindex="0"><svg role="img"></svg></div></figure>` +
      `</div><p class="cx-legend"></p>` +
      `<table class="cx-cost"><thead><tr><th scope="col">layer</th><th scope="col">parameters</th><th scope="col">MACs</th></tr></thead><tbody></tbody></table></div>` +
      `<div class="cx-code"><div class="cx-code-bar"><span>PyTorch</span><button type="button" class="cx-copy">Copy</button></div><pre><code></code></pre></div>`;
    const $ = sel_ => root.querySelector(sel_);
    const typeSelect = $('select');
    const panels = {input: $('.cx-input-panel'), kernel: $('.cx-kernel-panel'), output: $('.cx-output-panel')};

    function buildControls() {
      const ranges = controlsOf(settings.type);
      let html = '';
      for (const [name, range] of Object.entries(ranges)) {
        const value = name === 'padding' && settings.padding === 'same' ? range[0] : settings[name];
        html += field(id, name, range, Math.min(Math.max(value, range[0]), range[1]));
        if (name === 'padding') {
          html += `<div class="cx-field cx-check"><input type="checkbox" id="${id}-same"${settings.padding === 'same' ? ' checked' : ''}>` +
            `<label for="${id}-same">padding='same'</label></div>`;
        }
      }
      html += `<div class="cx-field cx-check"><input type="checkbox" id="${id}-bias"${settings.bias ? ' checked' : ''}>` +
        `<label for="${id}-bias">bias</label></div>`;
      $('.cx-controls').innerHTML = html;
      $('.cx-blurb').textContent = TYPES[settings.type].blurb;
      typeSelect.value = settings.type;
      readControls();
    }

    function readControls() {
      const next = {type: settings.type, bias: $(`#${id}-bias`).checked};
      for (const input of root.querySelectorAll('.cx-controls input[type=range]')) {
        next[input.name] = parseInt(input.value, 10);
        $(`#${id}-${input.name}-value`).textContent = input.value;
      }
      const same = $(`#${id}-same`);
      if (same) {
        next.padding = same.checked ? 'same' : next.padding;
        $(`#${id}-padding`).disabled = same.checked;
        $(`#${id}-padding-value`).textContent = same.checked ? "'same'" : next.padding;
      }
      settings = normalize(Object.assign(defaultsOf(settings.type), next));
    }

    function update() {
      result = compute(settings);
      const error = $('.cx-error');
      $('.cx-code code').textContent = result.code;
      root.dataset.outputSize = result.ok ? result.outputSize : '';
      if (!result.ok) {
        const hint = Object.entries(HINTS).find(([key]) => result.error.message.includes(key));
        error.innerHTML = `<p><strong>${esc(result.error.type)}</strong>: <span class="cx-error-message">${esc(result.error.message)}</span></p>` +
          `<p>This is what PyTorch says for these settings${hint ? ': ' + esc(hint[1]) : '.'}</p>`;
        error.hidden = false;
        $('.cx-result').hidden = true;
        return;
      }
      error.hidden = true;
      $('.cx-result').hidden = false;
      const f = result.formula;
      $('.cx-size').innerHTML = `<p class="cx-output-size">Output: <strong>${settings.outChannels} × ${result.outputSize} × ${result.outputSize}</strong> ` +
        `(channels × height × width) from an input of ${settings.inChannels} × ${settings.input} × ${settings.input}</p>` +
        `<p class="cx-formula"><code>${esc(f.symbolic)}</code><br><code>${esc(f.substituted)}</code></p>` +
        (f.note ? `<p class="cx-note">${esc(f.note)}</p>` : '');
      const ratio = (a, b) => (b ? ` <span class="cx-ratio">(${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×)</span>` : '');
      $('.cx-cost tbody').innerHTML =
        `<tr><th scope="row">this layer</th><td class="cx-params">${fmt(result.params)}${ratio(result.params, result.standard.params)}</td>` +
        `<td class="cx-macs">${fmt(result.macs)}${ratio(result.macs, result.standard.macs)}</td></tr>` +
        `<tr><th scope="row">${esc(result.standard.title)}<br><code>${esc(result.standard.code)}</code></th>` +
        `<td class="cx-std-params">${fmt(result.standard.params)}</td><td class="cx-std-macs">${fmt(result.standard.macs)}</td></tr>`;
      drawPanels();
      clampSelection();
      highlight();
    }

    function drawPanels() {
      const g = result.geometry, s = settings;
      const grouped = s.groups > 1 || s.type === 'depthwise';
      const colour = group => (grouped ? GROUP_COLOURS[group % 8] : ONE_GROUP);
      const outColours = Array.from({length: s.outChannels}, (_, o) => colour(groupOfOutput(s, o)));
      const inColours = Array.from({length: s.inChannels}, (_, c) => colour(groupOfInput(s, c)));
      let input, output;
      if (g.transposed) {
        input = {r0: 0, rows: g.n, cols: g.n, planes: inColours, kind: () => 'cx-in'};
        const end = Math.max(g.output, g.full - g.before);
        output = {r0: -g.before, rows: end + g.before, cols: end + g.before, planes: outColours,
          kind: (r, c) => (r < 0 || c < 0 || r >= g.output || c >= g.output ? 'cx-crop'
            : (r + g.before >= g.full || c + g.before >= g.full ? 'cx-out cx-extra' : 'cx-out'))};
      } else {
        const span = g.n + g.before + g.after;
        input = {r0: -g.before, rows: span, cols: span, planes: inColours,
          kind: (r, c) => (r < 0 || c < 0 || r >= g.n || c >= g.n ? 'cx-pad' : 'cx-in')};
        output = {r0: 0, rows: g.output, cols: g.output, planes: outColours, kind: () => 'cx-out'};
      }
      grids = {input: drawGrid(panels.input.querySelector('svg'), input),
        kernel: drawGrid(panels.kernel.querySelector('svg'), {r0: 0, rows: g.k, cols: g.k, planes: ['#777'],
          kind: () => 'cx-tap'}),
        output: drawGrid(panels.output.querySelector('svg'), output)};
      const key = (cls, words) => `<span class="cx-key cx-key-${cls}"></span>${words} `;
      root.querySelector('.cx-legend').innerHTML = key('in', 'input') + (g.transposed ? '' : key('pad', 'padding (zeros)')) +
        key('out', 'output') + key('hit', 'read / reached') + key('sel', 'followed cell') +
        (g.transposed ? key('crop', 'cropped by padding') : '') + '<span>numbers: kernel taps' +
        (s.inChannels > 1 || s.outChannels > 1 ? '; bold planes: the channels read or reached' : '') + '</span>';
      const pad = g.transposed ? '' : (g.before + g.after ? `, padding ${s.padding === 'same' ? `'same' (${g.before} before, ${g.after} after)` : g.before} (dashed)` : '');
      const planes = c => (c > 1 ? `, ${c} channels stacked` : ', 1 channel');
      panels.input.querySelector('figcaption').innerHTML = `<strong>INPUT</strong> ${g.n} × ${g.n}${pad}${planes(s.inChannels)}`;
      panels.output.querySelector('figcaption').innerHTML = `<strong>OUTPUT</strong> ${g.output} × ${g.output}` +
        `${g.transposed && g.before ? `, padding ${g.before} crops the grey dashed border` : ''}${planes(s.outChannels)}`;
      const kernelWords = {'depthwise-separable': `${g.k} × ${g.k} per channel, then 1 × 1`,
        'spatially-separable': `${g.k} × 1 then 1 × ${g.k}`}[s.type] || `${g.k} × ${g.k}`;
      const spread = s.dilation > 1 ? `, dilation ${s.dilation}: spans ${s.dilation * (g.k - 1) + 1} × ${s.dilation * (g.k - 1) + 1}` : '';
      panels.kernel.querySelector('figcaption').innerHTML = `<strong>KERNEL</strong> ${kernelWords}${spread}`;
      panels.input.querySelector('svg').setAttribute('aria-label', `Input grid, ${g.n} by ${g.n}`);
      panels.output.querySelector('svg').setAttribute('aria-label', `Output grid, ${g.output} by ${g.output}`);
      panels.kernel.querySelector('svg').setAttribute('aria-label', `Kernel, ${g.k} by ${g.k} taps`);
      const channelRange = view === 'gather' ? ['outChannels', 'output channel', sel.o] : ['inChannels', 'input channel', sel.c];
      const max = s[channelRange[0]] - 1;
      $('.cx-channel').innerHTML = max > 0 ? `<div class="cx-field"><label for="${id}-follow">${channelRange[1]} followed</label>` +
        `<input type="range" id="${id}-follow" min="0" max="${max}" step="1" value="${Math.min(channelRange[2], max)}">` +
        `<output for="${id}-follow">${Math.min(channelRange[2], max)}</output></div>` : '';
      panels.input.querySelector('.cx-svg').setAttribute('aria-label', view === 'scatter'
        ? 'Input grid: the arrow keys choose the input cell followed' : 'Input grid');
      panels.output.querySelector('.cx-svg').setAttribute('aria-label', view === 'gather'
        ? 'Output grid: the arrow keys choose the output cell followed' : 'Output grid');
    }

    function clampSelection() {
      const o = result.outputSize, n = settings.input;
      sel.i = Math.min(sel.i, o - 1); sel.j = Math.min(sel.j, o - 1);
      sel.y = Math.min(sel.y, n - 1); sel.x = Math.min(sel.x, n - 1);
      sel.o = Math.min(sel.o, settings.outChannels - 1); sel.c = Math.min(sel.c, settings.inChannels - 1);
    }

    function range(values) {
      const lo = Math.min(...values), hi = Math.max(...values);
      return lo === hi ? `${lo}` : `${lo}–${hi}`;
    }

    function highlight() {
      Object.values(grids).forEach(unmarkAll);
      const g = result.geometry, s = settings, k = g.k;
      const used = new Map();
      let sentence;
      if (view === 'gather') {
        const cells = g.gather(sel.i, sel.j), channels = result.channelMap[sel.o];
        mark(grids.output, `${sel.i},${sel.j}`, ['cx-sel']);
        for (const c of cells) {
          mark(grids.input, `${c.y},${c.x}`, ['cx-hit'], c.tap + 1);
          used.set(c.tap, used.get(c.tap) || !c.outside);
        }
        const real = cells.filter(c => !c.outside);
        markPlanes(grids.input, channels);
        markPlanes(grids.output, [sel.o]);
        sentence = `Output cell (row ${sel.i}, column ${sel.j}) of output channel ${sel.o} reads ` +
          (real.length ? `${real.length} input cell${real.length > 1 ? 's' : ''} (rows ${range(real.map(c => c.y))}, ` +
          `columns ${range(real.map(c => c.x))})` : 'no input cell') +
          ` in input channel${channels.length > 1 ? 's' : ''} ${range(channels)}` +
          (cells.length > real.length ? `; ${cells.length - real.length} of its taps fall on padding zeros` : '') +
          (g.transposed && cells.length < k * k ? `; only ${cells.length} of the ${k * k} taps land on it` : '') + '.';
      } else {
        const cells = g.scatter(sel.y, sel.x);
        const outs = Array.from({length: s.outChannels}, (_, o) => o).filter(o => result.channelMap[o].includes(sel.c));
        mark(grids.input, `${sel.y},${sel.x}`, ['cx-sel']);
        for (const c of cells) {
          mark(grids.output, `${c.i},${c.j}`, ['cx-hit'], c.tap + 1);
          used.set(c.tap, used.get(c.tap) || !c.outside);
        }
        const inside = cells.filter(c => !c.outside);
        markPlanes(grids.input, [sel.c]);
        markPlanes(grids.output, outs);
        sentence = `Input cell (row ${sel.y}, column ${sel.x}) of input channel ${sel.c} reaches ` +
          (inside.length ? `${inside.length} output cell${inside.length > 1 ? 's' : ''}` : 'no output cell') +
          ` in output channel${outs.length > 1 ? 's' : ''} ${range(outs)}` +
          (cells.length > inside.length ? `; ${cells.length - inside.length} more fall in the cropped border` : '') + '.';
      }
      for (let t = 0; t < k * k; t++) {
        const u = floorDiv(t, k), v = t % k;
        const classes = used.has(t) ? (used.get(t) ? ['cx-hit'] : ['cx-hit', 'cx-tap-pad']) : ['cx-tap-off'];
        mark(grids.kernel, `${u},${v}`, classes, t + 1);
      }
      $('.cx-selected').textContent = sentence;
    }

    function markPlanes(grid, channels) {
      grid.planes.forEach(p => p.classList.toggle('cx-plane-on', channels.includes(+p.dataset.plane)));
    }

    function move(dr, dc, wrap) {
      const o = result.outputSize, n = settings.input;
      const [rk, ck, size] = view === 'gather' ? ['i', 'j', o] : ['y', 'x', n];
      if (wrap) {
        const index = (sel[rk] * size + sel[ck] + dc + size * size) % (size * size);
        sel[rk] = floorDiv(index, size); sel[ck] = index % size;
      } else {
        sel[rk] = Math.min(Math.max(sel[rk] + dr, 0), size - 1);
        sel[ck] = Math.min(Math.max(sel[ck] + dc, 0), size - 1);
      }
      highlight();
    }

    function pick(event, which) {
      const cell = event.target.closest && event.target.closest('.cx-cell');
      if (!cell || !result || !result.ok) return;
      const r = +cell.dataset.r, c = +cell.dataset.c;
      if (which === 'output' && r >= 0 && c >= 0 && r < result.outputSize && c < result.outputSize) {
        setView('gather'); sel.i = r; sel.j = c;
      } else if (which === 'input' && r >= 0 && c >= 0 && r < settings.input && c < settings.input) {
        setView('scatter'); sel.y = r; sel.x = c;
      } else return;
      highlight();
    }

    /** Follow an output cell ('gather') or an input cell ('scatter'); the radio buttons say which. */
    function setView(next) {
      const radio = root.querySelector(`input[value=${next}]`);
      if (view === next && radio.checked) return;
      view = next;
      radio.checked = true;
      drawPanels();
    }

    typeSelect.addEventListener('change', () => {
      settings = defaultsOf(typeSelect.value);
      buildControls();
      update();
    });
    $('.cx-controls').addEventListener('input', () => { readControls(); update(); });
    $('.cx-controls').addEventListener('change', () => { readControls(); update(); });
    $('.cx-view').addEventListener('change', event => { view = event.target.value; drawPanels(); highlight(); });
    $('.cx-channel').addEventListener('input', event => {
      sel[view === 'gather' ? 'o' : 'c'] = +event.target.value;
      event.target.nextElementSibling.textContent = event.target.value;
      highlight();
    });
    $('.cx-stepper').addEventListener('click', event => {
      const button = event.target.closest('button');
      if (button) move(0, +button.dataset.step, true);
    });
    for (const which of ['input', 'output']) {
      const wrap = panels[which].querySelector('.cx-svg');
      wrap.addEventListener('pointermove', event => { if (event.pointerType === 'mouse') pick(event, which); });
      wrap.addEventListener('click', event => pick(event, which));
      wrap.addEventListener('keydown', event => {
        const keys = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]};
        if (!keys[event.key] || !result || !result.ok) return;
        event.preventDefault();
        setView(which === 'output' ? 'gather' : 'scatter');
        move(...keys[event.key], false);
      });
    }
    $('.cx-copy').addEventListener('click', () => {
      const text = result.code, button = $('.cx-copy');
      const done = () => { button.textContent = 'Copied'; setTimeout(() => { button.textContent = 'Copy'; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => {});
      else {
        const range_ = document.createRange();
        range_.selectNodeContents($('.cx-code code'));
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range_);
        button.textContent = 'Selected: copy it';
      }
    });
    buildControls();
    update();
    return {get settings() { return settings; }, get result() { return result; }};
  }

  function loadStyles() {
    const script = document.currentScript;
    if (!script || document.querySelector('link[data-conv-explorer]')) return;
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = script.src.replace(/\.js(\?.*)?$/, '.css');
    link.dataset.convExplorer = 'true';
    document.head.appendChild(link);
  }

  function mountAll() {
    document.querySelectorAll('.conv-explorer').forEach(mount);
  }

  loadStyles();
  window.convExplorer = {compute, normalize, controls: controlsOf, defaults: defaultsOf, mount, mountAll,
    types: TYPE_NAMES, names: Object.fromEntries(TYPE_NAMES.map(t => [t, TYPES[t].name]))};
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
}());
