//! Recurrent encoder-decoder with attention (Bahdanau et al. 2015, Luong et al. 2015).
//!
//! The encoder embeds the source characters and reads them with a bidirectional GRU or
//! LSTM; padded positions leave the state unchanged, so the backward direction starts at
//! each sequence's real last character. The decoder starts from `tanh(W [h→; h←])`, and
//! at every step attends over the encoder states with its previous state, feeds
//! `[embedding(y_{t-1}); context]` to its cell and predicts `y_t` from
//! `[state; context; embedding]`.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::attention::Attention;
use super::config::{CellKind, Seq2SeqConfig};

/// One GRU or LSTM cell with fused gate weights: `gates = W_x x + W_h h`.
#[derive(Module, Debug)]
pub struct RecurrentCell {
    /// Input to all gates, `[d_in, g·d_hidden]` (g = 3 for the GRU, 4 for the LSTM).
    pub input: Linear,
    /// Previous state to all gates, `[d_hidden, g·d_hidden]`.
    pub hidden: Linear,
    /// True for an LSTM.
    #[module(skip)]
    pub lstm: bool,
    /// State size.
    #[module(skip)]
    pub d_hidden: usize,
}

/// A recurrent state; `c` is the LSTM's memory cell (zeros, unused, for the GRU).
#[derive(Debug, Clone)]
pub struct CellState {
    /// Hidden state `[b, d_hidden]`.
    pub h: Tensor<2>,
    /// Memory cell `[b, d_hidden]`.
    pub c: Tensor<2>,
}

impl RecurrentCell {
    /// A new cell.
    pub fn new(kind: CellKind, d_in: usize, d_hidden: usize, device: &Device) -> Self {
        let gates = match kind {
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        };
        Self {
            input: LinearConfig::new(d_in, gates * d_hidden).init(device),
            hidden: LinearConfig::new(d_hidden, gates * d_hidden).init(device),
            lstm: kind == CellKind::Lstm,
            d_hidden,
        }
    }

    /// A zero state for `batch` sequences.
    pub fn zero_state(&self, batch: usize, device: &Device) -> CellState {
        CellState {
            h: Tensor::zeros([batch, self.d_hidden], device),
            c: Tensor::zeros([batch, self.d_hidden], device),
        }
    }

    /// One step from the input projection `gx = W_x x` (`[b, g·d_hidden]`, computed for
    /// a whole sequence at once by [`input`](Self::input)).
    ///
    /// ```text
    /// GRU   r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r ⊙ h_n),
    ///       h' = (1 - z) ⊙ n + z ⊙ h
    /// LSTM  i, f, g, o from x + h;  c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),  h' = σ(o) ⊙ tanh(c')
    /// ```
    pub fn step(&self, gx: Tensor<2>, state: CellState) -> CellState {
        let gh = self.hidden.forward(state.h.clone());
        if self.lstm {
            let mut g = (gx + gh).chunk(4, 1).into_iter();
            let (i, f, cand, o) = (
                sigmoid(g.next().unwrap()),
                sigmoid(g.next().unwrap()),
                g.next().unwrap().tanh(),
                sigmoid(g.next().unwrap()),
            );
            let c = f * state.c + i * cand;
            CellState {
                h: o * c.clone().tanh(),
                c,
            }
        } else {
            let mut x = gx.chunk(3, 1).into_iter();
            let mut h = gh.chunk(3, 1).into_iter();
            let r = sigmoid(x.next().unwrap() + h.next().unwrap());
            let z = sigmoid(x.next().unwrap() + h.next().unwrap());
            let n = (x.next().unwrap() + r * h.next().unwrap()).tanh();
            let h_new = n.clone() + z * (state.h - n);
            CellState {
                h: h_new,
                c: state.c,
            }
        }
    }
}

/// `old` where `keep` (`[b, 1]`, 1 = update) is 0, `new` where it is 1.
fn blend(new: CellState, old: CellState, keep: &Tensor<2>) -> CellState {
    CellState {
        h: old.h.clone() + keep.clone() * (new.h - old.h),
        c: old.c.clone() + keep.clone() * (new.c - old.c),
    }
}

/// Embedding and bidirectional recurrent reader of the source.
#[derive(Module, Debug)]
pub struct RnnEncoder {
    /// Source character embedding.
    pub embed: Embedding,
    /// Left-to-right cell.
    pub forward_cell: RecurrentCell,
    /// Right-to-left cell.
    pub backward_cell: RecurrentCell,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
}

impl RnnEncoder {
    /// Encodes `src` `[b, t]` (`pad` true at padding): the states `[b, t, 2h]` (forward
    /// and backward concatenated) and the final states `[b, 2h]`.
    pub fn forward(&self, src: Tensor<2, Int>, pad: Tensor<2, Bool>) -> (Tensor<3>, Tensor<2>) {
        let [b, t] = src.dims();
        let device = src.device();
        let x = self.dropout.forward(self.embed.forward(src));
        let valid = pad.bool_not().float();
        let run = |cell: &RecurrentCell, order: Vec<usize>| {
            let gx = cell.input.forward(x.clone());
            let mut state = cell.zero_state(b, &device);
            let mut outputs = vec![None; t];
            for j in order {
                let g = gx.clone().narrow(1, j, 1).squeeze_dim::<2>(1);
                let keep = valid.clone().narrow(1, j, 1);
                let new = cell.step(g, state.clone());
                state = blend(new, state, &keep);
                outputs[j] = Some(state.h.clone());
            }
            let outputs: Vec<Tensor<2>> = outputs.into_iter().map(Option::unwrap).collect();
            (Tensor::stack::<3>(outputs, 1), state.h)
        };
        let (fw, fw_last) = run(&self.forward_cell, (0..t).collect());
        let (bw, bw_last) = run(&self.backward_cell, (0..t).rev().collect());
        (
            Tensor::cat(vec![fw, bw], 2),
            Tensor::cat(vec![fw_last, bw_last], 1),
        )
    }
}

/// The attending decoder.
#[derive(Module, Debug)]
pub struct RnnDecoder {
    /// Target character embedding.
    pub embed: Embedding,
    /// Recurrent cell on `[embedding; context]`.
    pub cell: RecurrentCell,
    /// Attention over the encoder states.
    pub attention: Attention,
    /// Encoder final states to the first decoder state.
    pub bridge: Linear,
    /// `[state; context; embedding]` to target logits.
    pub output: Linear,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
}

/// Encoder states prepared for decoding.
#[derive(Debug, Clone)]
pub struct Memory {
    /// Encoder states `[b, t, 2h]` (the attention values).
    pub states: Tensor<3>,
    /// Their key projections `[b, t, a]`.
    pub keys: Tensor<3>,
    /// True at padded source positions `[b, t]`.
    pub pad: Tensor<2, Bool>,
}

impl RnnDecoder {
    /// The first state from the encoder's final states `[b, 2h]`.
    pub fn initial_state(&self, last: Tensor<2>) -> CellState {
        let h = self.bridge.forward(last).tanh();
        let c = h.zeros_like();
        CellState { h, c }
    }

    /// One step: logits `[b, V]`, the new state and the attention weights `[b, t]`.
    pub fn step(
        &self,
        prev: Tensor<1, Int>,
        state: CellState,
        memory: &Memory,
    ) -> (Tensor<2>, CellState, Tensor<2>) {
        let [b] = prev.dims();
        let e = self
            .dropout
            .forward(self.embed.forward(prev.reshape([b, 1])))
            .squeeze_dim::<2>(1);
        let (context, weights) = self.attention.forward(
            state.h.clone(),
            memory.keys.clone(),
            memory.states.clone(),
            memory.pad.clone(),
        );
        let gx = self
            .cell
            .input
            .forward(Tensor::cat(vec![e.clone(), context.clone()], 1));
        let state = self.cell.step(gx, state);
        let logits = self
            .output
            .forward(Tensor::cat(vec![state.h.clone(), context, e], 1));
        (logits, state, weights)
    }
}

/// Encoder and attending decoder.
#[derive(Module, Debug)]
pub struct RnnSeq2Seq {
    /// The bidirectional encoder.
    pub encoder: RnnEncoder,
    /// The decoder.
    pub decoder: RnnDecoder,
}

impl RnnSeq2Seq {
    /// A new model for the vocabulary sizes given.
    pub fn new(cfg: &Seq2SeqConfig, src_vocab: usize, tgt_vocab: usize, device: &Device) -> Self {
        let (e, h) = (cfg.embed_dim, cfg.hidden);
        let dropout = DropoutConfig::new(cfg.dropout);
        let encoder = RnnEncoder {
            embed: EmbeddingConfig::new(src_vocab, e).init(device),
            forward_cell: RecurrentCell::new(cfg.cell, e, h, device),
            backward_cell: RecurrentCell::new(cfg.cell, e, h, device),
            dropout: dropout.init(),
        };
        let decoder = RnnDecoder {
            embed: EmbeddingConfig::new(tgt_vocab, e).init(device),
            cell: RecurrentCell::new(cfg.cell, e + 2 * h, h, device),
            attention: Attention::new(cfg.attention, h, 2 * h, h, device),
            bridge: LinearConfig::new(2 * h, h).init(device),
            output: LinearConfig::new(h + 2 * h + e, tgt_vocab).init(device),
            dropout: dropout.init(),
        };
        Self { encoder, decoder }
    }

    /// Encodes the source and the decoder's first state.
    pub fn encode(&self, src: Tensor<2, Int>, pad: Tensor<2, Bool>) -> (Memory, CellState) {
        let (states, last) = self.encoder.forward(src, pad.clone());
        let keys = self.decoder.attention.keys(states.clone());
        let state = self.decoder.initial_state(last);
        (Memory { states, keys, pad }, state)
    }

    /// Teacher forcing: logits `[b, T, V]` for decoder inputs `tgt_in` `[b, T]`
    /// (`<start> y_1 .. y_{T-1}`).
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        pad: Tensor<2, Bool>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3> {
        let [_, steps] = tgt_in.dims();
        let (memory, mut state) = self.encode(src, pad);
        let mut logits = Vec::with_capacity(steps);
        for j in 0..steps {
            let prev = tgt_in.clone().narrow(1, j, 1).squeeze_dim::<1>(1);
            let (l, s, _) = self.decoder.step(prev, state, &memory);
            state = s;
            logits.push(l);
        }
        Tensor::stack::<3>(logits, 1)
    }

    /// Greedy decoding: each sequence's ids up to and including `end` (or `max_len`
    /// ids), and its attention weights, one row over the source per id.
    pub fn greedy(
        &self,
        src: Tensor<2, Int>,
        pad: Tensor<2, Bool>,
        start: usize,
        end: usize,
        max_len: usize,
    ) -> (Vec<Vec<usize>>, Vec<Vec<Vec<f32>>>) {
        let [b, t] = src.dims();
        let device = src.device();
        let (memory, mut state) = self.encode(src, pad);
        let mut prev = Tensor::<1, Int>::full([b], start as i64, &device);
        let mut ids = vec![Vec::new(); b];
        let mut weights = vec![Vec::new(); b];
        for _ in 0..max_len {
            let (logits, s, w) = self.decoder.step(prev, state, &memory);
            state = s;
            prev = logits.argmax(1).squeeze_dim::<1>(1);
            let chosen = super::model::int_values(prev.clone());
            let w = w.into_data().try_to_vec::<f32>().unwrap_or_default();
            for (k, &id) in chosen.iter().enumerate() {
                if ids[k].last() != Some(&end) {
                    ids[k].push(id);
                    weights[k].push(w[k * t..(k + 1) * t].to_vec());
                }
            }
            if ids.iter().all(|s| s.last() == Some(&end)) {
                break;
            }
        }
        (ids, weights)
    }
}
