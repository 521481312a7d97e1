//! Distances and losses against values computed by PyTorch 2.15 (`bench/metric_golden.py`, its
//! output pasted below): `torch.cdist`, `1 - F.cosine_similarity`,
//! `nn.TripletMarginLoss(margin=0.5, p=2, eps=0)` over every valid triplet and its gradient, and
//! seed 002's contrastive loss (m = 1.5) over every pair, and the batch-hard and semi-hard
//! triplets (mined with torch tensor operations) with their triplet losses.

use burn::tensor::{Device, Tensor, TensorData};

use super::{
    Distance, Triplet, all_pairs, all_triplets, batch_hard, contrastive_loss, pairwise_distances,
    semi_hard, triplet_loss,
};

const X: [f32; 18] = [
    0.1, 0.2, -0.3, 0.0, 0.4, -0.1, 0.9, -0.2, 0.3, 0.7, 0.1, 0.5, -0.6, 0.8, 0.2, -0.4, 0.5, 0.6,
];
const LABELS: [u32; 6] = [0, 0, 1, 1, 2, 2];
const L2: [f32; 36] = [
    0.0, 0.3, 1.077033, 1.0049876, 1.0488088, 1.0723805, 0.3, 0.0, 1.1532563, 0.969536, 0.781025,
    0.8124038, 1.077033, 1.1532563, 0.0, 0.4123106, 1.805547, 1.5066519, 1.0049876, 0.969536,
    0.4123106, 0.0, 1.5066519, 1.174734, 1.0488088, 0.781025, 1.805547, 1.5066519, 0.0, 0.5385165,
    1.0723805, 0.8124038, 1.5066519, 1.174734, 0.5385165, 0.0,
];
const COSINE: [f32; 36] = [
    0.0, 0.2869759, 1.1102636, 1.185164, 0.8951715, 1.3654869, 0.2869759, 0.0, 1.275172, 1.0280056,
    0.2865228, 0.613047, 1.1102636, 1.275172, 0.0, 0.0948532, 1.6472907, 1.3291158, 1.185164,
    1.0280056, 0.0948532, 0.0, 1.2717465, 0.9078868, 0.8951715, 0.2865228, 1.6472907, 1.2717465,
    0.0, 0.1507187, 1.3654869, 0.613047, 1.3291158, 0.9078868, 0.1507187, 0.0,
];
const TRIPLET_ALL_MARGIN_0_5: f32 = 0.0209408;
const CONTRASTIVE_ALL_MARGIN_1_5: f32 = 0.0952502;
const BATCH_HARD: [(usize, usize, usize); 6] = [
    (0, 1, 3),
    (1, 0, 4),
    (2, 3, 0),
    (3, 2, 1),
    (4, 5, 1),
    (5, 4, 1),
];
const BATCH_HARD_MARGIN_0_5: f32 = 0.0837632;
const SEMI_HARD_MARGIN_0_5: [(usize, usize, usize); 3] = [(1, 0, 4), (4, 5, 1), (5, 4, 1)];
const SEMI_HARD_LOSS_MARGIN_0_5: f32 = 0.1675264;
const SEMI_HARD_MARGIN_1_0: [(usize, usize, usize); 6] = [
    (0, 1, 3),
    (1, 0, 4),
    (2, 3, 0),
    (3, 2, 1),
    (4, 5, 1),
    (5, 4, 1),
];
const SEMI_HARD_LOSS_MARGIN_1_0: f32 = 0.5126073;
const TRIPLET_GRAD: [f32; 18] = [
    0.0138889, -0.0277778, -0.0277778, -0.0984226, 0.0755855, 0.0956887, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0330692, 0.0037449, -0.0939077, 0.0514645, -0.0515526, 0.0259968,
];

fn embedding(device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(X.to_vec(), [6, 3]), device)
}

fn close(got: impl IntoIterator<Item = f32>, want: &[f32], tol: f32) {
    let got: Vec<f32> = got.into_iter().collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "entry {i}: {g} vs PyTorch {w}");
    }
}

#[test]
fn distances_match_pytorch() {
    let x = embedding(&Device::flex());
    let l2 = pairwise_distances(x.clone(), Distance::L2).into_data();
    // The diagonal is clamped at sqrt(1e-12) = 1e-6 for a finite gradient.
    close(l2.iter::<f32>(), &L2, 2e-6);
    let cos = pairwise_distances(x, Distance::Cosine).into_data();
    close(cos.iter::<f32>(), &COSINE, 2e-6);
}

#[test]
fn losses_and_gradient_match_pytorch() {
    let device = Device::flex().autodiff();
    let x = embedding(&device).require_grad();
    let d = pairwise_distances(x.clone(), Distance::L2);
    let t = triplet_loss(&d, &all_triplets(&LABELS), 0.5).unwrap();
    let c = contrastive_loss(&d, &all_pairs(&LABELS), 1.5).unwrap();
    close(
        [c.into_scalar::<f32>()],
        &[CONTRASTIVE_ALL_MARGIN_1_5],
        1e-6,
    );
    close(
        [t.clone().into_scalar::<f32>()],
        &[TRIPLET_ALL_MARGIN_0_5],
        1e-6,
    );
    let grad = x.grad(&t.backward()).unwrap().into_data();
    close(grad.iter::<f32>(), &TRIPLET_GRAD, 1e-5);
}

#[test]
fn miners_match_pytorch() {
    let d = pairwise_distances(embedding(&Device::flex()), Distance::L2);
    let values: Vec<f32> = d.clone().into_data().iter::<f32>().collect();
    let hard = batch_hard(&values, &LABELS);
    assert_eq!(hard, BATCH_HARD);
    let loss = triplet_loss(&d, &hard, 0.5).unwrap().into_scalar::<f32>();
    close([loss], &[BATCH_HARD_MARGIN_0_5], 1e-6);
    let cases: [(f32, &[Triplet], f32); 2] = [
        (0.5, &SEMI_HARD_MARGIN_0_5, SEMI_HARD_LOSS_MARGIN_0_5),
        (1.0, &SEMI_HARD_MARGIN_1_0, SEMI_HARD_LOSS_MARGIN_1_0),
    ];
    for (margin, triplets, want) in cases {
        let mined = semi_hard(&values, &LABELS, margin);
        assert_eq!(mined, triplets, "margin {margin}");
        let loss = triplet_loss(&d, &mined, margin)
            .unwrap()
            .into_scalar::<f32>();
        close([loss], &[want], 1e-6);
    }
}
