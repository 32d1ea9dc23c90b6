"""Where a frame graph spends its time: onnxruntime's per-node profiler, 1 thread (native CPU).

    python models/train/profile_onnx.py [GRAPH=models/kiloface-v2/frame-geometry.onnx] [RUNS=30]

Prints the mean time a run, and the shares by op type, by module scope (the exporter's node
names: '(top)' is the forward's own glue), and by the size of each node's output (ops that write
256x256 maps against 64x64 maps and small tensors). Inputs: the model folder's fixture (reference
picture, landmarks, guide) and random reference features. Native kernels are not WASM's (see
bench_node.mjs --wasm for that speed); read the shares, and time on a quiet machine.
"""
import collections
import json
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort


def fixture_feeds(session, folder):
    fx = os.path.join(folder, 'fixture')
    f32 = lambda name: np.fromfile(os.path.join(fx, name), dtype=np.float32).reshape(1, 468, 2)
    picture = lambda name, side: (np.fromfile(os.path.join(fx, name), dtype=np.uint8).reshape(side, side, 3)
                                  .transpose(2, 0, 1)[None].astype(np.float32) / 255)
    known = {'ref_image': picture('ref_image_u8.bin', 256), 'ref_landmarks': f32('ref_landmarks.bin'),
             'tgt_landmarks': f32('tgt_landmarks.bin'), 'guide': picture('guide_u8.bin', 64),
             'guide_landmarks': f32('guide_landmarks.bin'), 'guide_on': np.ones((1, 1), np.float32)}
    rng = np.random.default_rng(0)
    return {i.name: known[i.name] if i.name in known else rng.random(i.shape, dtype=np.float32) - 0.5
            for i in session.get_inputs()}


def output_band(bytes_out):
    if bytes_out >= 256 * 256 * 4:
        return '256x256 maps'
    return '64x64 maps' if bytes_out >= 64 * 64 * 4 else 'small tensors'


def main():
    graph = sys.argv[1] if len(sys.argv) > 1 else 'models/kiloface-v2/frame-geometry.onnx'
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), 'profile')
    session = ort.InferenceSession(graph, options, providers=['CPUExecutionProvider'])
    feeds = fixture_feeds(session, os.path.dirname(graph))
    for _ in range(runs):
        session.run(None, feeds)
    with open(session.end_profiling()) as f:
        nodes = [e for e in json.load(f) if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time')]
    shares = {'op': collections.Counter(), 'scope': collections.Counter(), 'output': collections.Counter()}
    for e in nodes:
        path = e['name'][:-len('_kernel_time')].strip('/').split('/')
        shares['op'][e['args']['op_name']] += e['dur']
        shares['scope'][path[0] if len(path) > 1 else '(top)'] += e['dur']
        shares['output'][output_band(int(e['args'].get('output_size', 0)))] += e['dur']
    total = sum(shares['op'].values())
    print(f'{graph}: {total / runs / 1000:.1f} ms a run ({runs} runs, 1 thread, load average '
          f'{" ".join(f"{x:.1f}" for x in os.getloadavg())})')
    for what, counter in shares.items():
        print(f'by {what}:')
        for key, us in counter.most_common(10):
            print(f'  {key:<24} {100 * us / total:5.1f} %')


if __name__ == '__main__':
    main()
