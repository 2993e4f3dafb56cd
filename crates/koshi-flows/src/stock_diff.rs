//! Stock differencing (Beine, Bertoli & Fernández-Huertas Moraga 2016).

use crate::{FlowsError, Matrix};

/// What to do with decreases in a bilateral stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockDecrease {
    /// Bertoli & Fernández-Huertas Moraga (2015): decreases become zero flows.
    Zero,
    /// Beine & Parsons (2015): a decrease of people born in `i` living in `j`
    /// is a return flow `j → i`.
    Return,
}

/// Flows from the change in bilateral stocks (rows = birthplace, columns = residence).
///
/// `Δ = end − start` with diagonals zeroed unless `include_native_born`;
/// `Zero`: `y_ij = max(Δ_ij, 0)`; `Return`: `y_ij = max(Δ_ij, 0) + max(−Δ_ji, 0)`.
/// The result is origin × destination, origin = birthplace row.
pub fn stock_difference(
    start: &Matrix,
    end: &Matrix,
    decrease: StockDecrease,
    include_native_born: bool,
) -> Result<Matrix, FlowsError> {
    start.same_shape(end)?;
    if !start.is_square() {
        return Err(FlowsError::Dimension("stock tables must be square".into()));
    }
    let mut delta = end.sub(start)?;
    if !include_native_born {
        delta.set_diagonal(0.0);
    }
    let n = delta.rows();
    let mut flows = delta.map(|d| d.max(0.0));
    if decrease == StockDecrease::Return {
        for i in 0..n {
            for j in 0..n {
                flows[(i, j)] += (-delta[(j, i)]).max(0.0);
            }
        }
    }
    Ok(flows)
}
