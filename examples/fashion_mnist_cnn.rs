//! The seed's Keras Fashion-MNIST CNN (seed 001, 9.4) written with manabi's library API.
//!
//! ```text
//! cargo run --release --example fashion_mnist_cnn -- ../shared/datasets
//! ```
//!
//! The Keras original, for comparison:
//!
//! ```text
//! model2 = tf.keras.Sequential([
//!     tf.keras.layers.Conv2D(16, (3, 3), activation='relu', input_shape=(28, 28, 1)),
//!     tf.keras.layers.MaxPooling2D((2, 2)),
//!     tf.keras.layers.Conv2D(32, (3, 3), activation='relu'),
//!     tf.keras.layers.MaxPooling2D((2, 2)),
//!     tf.keras.layers.Flatten(),
//!     tf.keras.layers.Dense(128, activation='relu'),
//!     tf.keras.layers.Dense(10, activation='softmax')
//! ])
//! model2.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
//! model2.fit(X_train, y_train, epochs=5, batch_size=200)
//! test_loss, test_acc = model2.evaluate(X_test, y_test)
//! ```

use std::path::PathBuf;

use burn::tensor::Device;
use manabi::data::{DatasetName, PreprocessConfig, load_builtin};
use manabi::losses::LossConfig;
use manabi::model::{ActivationKind::*, LayerConfig as L, SequentialConfig};
use manabi::optim::OptimizerConfig;
use manabi::train::{FitConfig, Silent, evaluate, fit};

fn main() -> manabi::Result<()> {
    let data_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/datasets"));

    // (X_train, y_train), (X_test, y_test) = fashion_mnist.load_data(); X / 255.0
    let mut data = load_builtin(DatasetName::FashionMnist, Some(&data_dir))?;
    let scale = PreprocessConfig::Scale { divide_by: 255.0 }.fit(&data.train)?;
    scale.transform(&mut data.train)?;
    scale.transform(&mut data.test)?;

    let device = Device::flex();
    let train_device = device.clone().autodiff();
    let model = SequentialConfig::new()
        .add(L::conv2d(16, 3, Relu))
        .add(L::max_pool2d(2))
        .add(L::conv2d(32, 3, Relu))
        .add(L::max_pool2d(2))
        .add(L::flatten())
        .add(L::dense(128, Relu))
        .add(L::dense(10, Softmax));
    println!("{}", model.summary("model2", &[1, 28, 28])?);
    let model = model.build(&[1, 28, 28], &train_device)?;

    let loss = LossConfig::SparseCategoricalCrossentropy;
    let cfg = FitConfig::new(loss, OptimizerConfig::adam(1e-3), 5, 200);
    let trained = fit(model, &data.train, None, &cfg, &train_device, &mut Silent)?;
    for (epoch, l) in trained
        .history
        .series("loss")
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        println!("epoch {}: loss {l:.4}", epoch + 1);
    }

    let test = evaluate(&trained.model, &data.test, loss, 512, &device)?;
    println!(
        "Test accuracy: {:.4}",
        test.metric("accuracy").unwrap_or(0.0)
    );
    Ok(())
}
