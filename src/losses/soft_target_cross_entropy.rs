//! Cross-entropy against soft targets, and its temperature form for distillation.

use burn::tensor::Tensor;
use burn::tensor::activation::softmax;

use super::categorical_cross_entropy;

/// Cross-entropy against soft targets (a teacher's probabilities, mixup/cutmix labels,
/// label smoothing), averaged over the batch. The same quantity as
/// [`categorical_cross_entropy`]; the name says the targets are not one-hot.
///
/// ```text
/// loss = -1/N Σ_n Σ_k q_nk · log softmax(x_n)_k
/// ```
///
/// # Shapes
/// - `logits`, `target_probs`: `[batch, classes]`
/// - returns `[1]`
pub fn soft_target_cross_entropy(logits: Tensor<2>, target_probs: Tensor<2>) -> Tensor<1> {
    categorical_cross_entropy(logits, target_probs)
}

/// Distillation loss of Hinton, Vinyals and Dean (2015, arXiv:1503.02531): cross-entropy
/// between the teacher's and the student's softmax at temperature `t`, scaled by `t²` so
/// that its gradients keep the same size as a hard-label loss whatever `t` is.
///
/// ```text
/// q = softmax(teacher / t)
/// loss = t² · (-1/N Σ_n Σ_k q_nk · log softmax(student_n / t)_k)
/// ```
///
/// The teacher's logits are detached: no gradient flows into the teacher.
///
/// # Shapes
/// - `student_logits`, `teacher_logits`: `[batch, classes]`
/// - returns `[1]`
pub fn soft_target_cross_entropy_t(
    student_logits: Tensor<2>,
    teacher_logits: Tensor<2>,
    t: f64,
) -> Tensor<1> {
    let teacher_probs = softmax(teacher_logits.detach().div_scalar(t), 1);
    soft_target_cross_entropy(student_logits.div_scalar(t), teacher_probs).mul_scalar(t * t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_util::{assert_close, scalar, t2};

    const STUDENT: [[f32; 3]; 2] = [[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]];
    const TEACHER: [[f32; 3]; 2] = [[3.0, 1.0, 0.0], [0.0, 0.0, 2.0]];

    #[test]
    fn distillation_loss_matches_numpy() {
        // (lsm as in sparse_categorical_cross_entropy.rs)
        // s = np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]])
        // t = np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 2.0]]); T = 2.0
        // pt = np.exp(lsm(t / T))
        // print(T * T * -(pt * lsm(s / T)).sum(axis=1).mean())  -> 5.087502846140499
        let loss = soft_target_cross_entropy_t(t2(STUDENT), t2(TEACHER), 2.0);
        assert_close(scalar(loss), 5.087_502_846_140_499, 1e-5);
    }

    #[test]
    fn temperature_one_is_plain_soft_target_ce() {
        let q = softmax(t2(TEACHER), 1);
        let plain = scalar(soft_target_cross_entropy(t2(STUDENT), q));
        let t1 = scalar(soft_target_cross_entropy_t(t2(STUDENT), t2(TEACHER), 1.0));
        assert_close(t1, plain, 1e-6);
    }

    #[test]
    fn no_gradient_reaches_the_teacher() {
        let ad = crate::losses::test_util::device().autodiff();
        let student = Tensor::<2>::from_floats(STUDENT, &ad).require_grad();
        let teacher = Tensor::<2>::from_floats(TEACHER, &ad).require_grad();
        let grads = soft_target_cross_entropy_t(student.clone(), teacher.clone(), 2.0).backward();
        assert!(student.grad(&grads).is_some());
        assert!(teacher.grad(&grads).is_none());
    }
}
