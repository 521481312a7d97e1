//! `model.summary()`: each layer with its output shape and parameter count.

use std::fmt;

/// One row of a [`Summary`].
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// Unique name, e.g. `conv2d_1`.
    pub name: String,
    /// Recipe type, e.g. `conv2d`.
    pub kind: String,
    /// Output shape without the batch axis.
    pub output_shape: Vec<usize>,
    /// Learned parameters.
    pub trainable: usize,
    /// Running statistics (batch norm), counted as Keras does.
    pub non_trainable: usize,
}

/// A model's layers, shapes and parameter counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Model name.
    pub name: String,
    /// Input shape without the batch axis.
    pub input_shape: Vec<usize>,
    /// One row per layer.
    pub layers: Vec<LayerSummary>,
}

impl Summary {
    /// Learned parameters in all layers.
    pub fn trainable_params(&self) -> usize {
        self.layers.iter().map(|l| l.trainable).sum()
    }

    /// Non-trainable parameters in all layers.
    pub fn non_trainable_params(&self) -> usize {
        self.layers.iter().map(|l| l.non_trainable).sum()
    }

    /// All parameters.
    pub fn total_params(&self) -> usize {
        self.trainable_params() + self.non_trainable_params()
    }
}

fn shape_str(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("(None, {})", dims.join(", "))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "-".repeat(68);
        writeln!(
            f,
            "Model: \"{}\"  input {}",
            self.name,
            shape_str(&self.input_shape)
        )?;
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "{:<29} {:<25} {:>12}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        writeln!(f, "{}", "=".repeat(68))?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<29} {:<25} {:>12}",
                format!("{} ({})", l.name, l.kind),
                shape_str(&l.output_shape),
                l.trainable + l.non_trainable
            )?;
        }
        writeln!(f, "{}", "=".repeat(68))?;
        writeln!(f, "Total params: {}", self.total_params())?;
        writeln!(f, "Trainable params: {}", self.trainable_params())?;
        write!(f, "Non-trainable params: {}", self.non_trainable_params())
    }
}
