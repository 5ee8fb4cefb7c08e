//! The inventory: which network interfaces exist and where they sit (VPC, subnet, instance,
//! account, region, availability zone). flowwatch has no EC2 control plane, so a flow log on a
//! VPC or a subnet covers the interfaces the inventory places there (`docs/inventory.md`).
//!
//! ```
//! use flowwatch_engine::flow_logs::Inventory;
//! let inventory: Inventory = serde_json::from_str(r#"{"interface": [
//!     {"eni": "eni-0123456789abcdef0", "vpc-id": "vpc-0a1b2c3d", "subnet-id": "subnet-0a1b2c3d"}
//! ]}"#).unwrap();
//! inventory.validate().unwrap();
//! assert_eq!(inventory.in_vpc("vpc-0a1b2c3d").count(), 1);
//! ```

use serde::Deserialize;

use super::resource::is_id;

/// Every interface flowwatch knows of.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default)]
    pub interface: Vec<Interface>,
}

/// One network interface.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Interface {
    /// `eni-` and 8 or 17 hex digits.
    pub eni: String,
    /// The host's interface name (`eth0`): `flowwatch capture --interface eth0 --inventory`
    /// records its traffic under this ENI.
    pub name: Option<String>,
    /// The host the interface is on (its hostname), when one inventory lists several hosts'
    /// interfaces of the same name.
    pub host: Option<String>,
    /// A NetFlow/IPFIX exporter's address and the ifIndex of one of its interfaces:
    /// `flowwatch capture --netflow ... --inventory` records that interface's flows under
    /// this ENI.
    pub exporter: Option<std::net::IpAddr>,
    pub if_index: Option<u32>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_id: Option<String>,
    /// Twelve digits; the server's account when absent.
    pub account: Option<String>,
    /// The server's region of the flow log when absent.
    pub region: Option<String>,
    pub az_id: Option<String>,
}

/// What is wrong with an inventory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("interface {index}: {field} {value:?} is not {expected}")]
    Invalid {
        index: usize,
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("interface {eni} is listed twice")]
    Duplicate { eni: String },
}

impl Inventory {
    /// Checks every id's shape and that no interface is listed twice.
    pub fn validate(&self) -> Result<(), InventoryError> {
        let mut seen = std::collections::HashSet::new();
        for (index, i) in self.interface.iter().enumerate() {
            let check =
                |field: &'static str, value: Option<&String>, prefix: &str, expected| match value {
                    Some(v) if !is_id(v, prefix) => Err(InventoryError::Invalid {
                        index,
                        field,
                        value: v.clone(),
                        expected,
                    }),
                    _ => Ok(()),
                };
            check("eni", Some(&i.eni), "eni-", "eni- and 8 or 17 hex digits")?;
            check(
                "vpc-id",
                i.vpc_id.as_ref(),
                "vpc-",
                "vpc- and 8 or 17 hex digits",
            )?;
            check(
                "subnet-id",
                i.subnet_id.as_ref(),
                "subnet-",
                "subnet- and 8 or 17 hex digits",
            )?;
            check(
                "instance-id",
                i.instance_id.as_ref(),
                "i-",
                "i- and 8 or 17 hex digits",
            )?;
            if let Some(a) = &i.account
                && !(a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(InventoryError::Invalid {
                    index,
                    field: "account",
                    value: a.clone(),
                    expected: "12 digits",
                });
            }
            if i.exporter.is_some() != i.if_index.is_some() {
                return Err(InventoryError::Invalid {
                    index,
                    field: if i.exporter.is_some() {
                        "exporter"
                    } else {
                        "if-index"
                    },
                    value: String::new(),
                    expected: "given with the other (an exporter's interface is both)",
                });
            }
            if !seen.insert(i.eni.as_str()) {
                return Err(InventoryError::Duplicate { eni: i.eni.clone() });
            }
        }
        Ok(())
    }

    /// The interface a capture on this host sees as `name`: listed with that name and this
    /// host, or with that name and no host.
    pub fn by_name(&self, host: &str, name: &str) -> Option<&Interface> {
        let named = || {
            self.interface
                .iter()
                .filter(|i| i.name.as_deref() == Some(name))
        };
        named()
            .find(|i| i.host.as_deref() == Some(host))
            .or_else(|| named().find(|i| i.host.is_none()))
    }

    /// The interface an exporter reports as `if_index`.
    pub fn by_exporter(&self, exporter: std::net::IpAddr, if_index: u32) -> Option<&Interface> {
        self.interface
            .iter()
            .find(|i| i.exporter == Some(exporter) && i.if_index == Some(if_index))
    }

    /// The interface with id `eni`.
    pub fn interface(&self, eni: &str) -> Option<&Interface> {
        self.interface.iter().find(|i| i.eni == eni)
    }

    /// The interfaces in a VPC.
    pub fn in_vpc<'a>(&'a self, vpc: &'a str) -> impl Iterator<Item = &'a Interface> {
        self.interface
            .iter()
            .filter(move |i| i.vpc_id.as_deref() == Some(vpc))
    }

    /// The interfaces in a subnet.
    pub fn in_subnet<'a>(&'a self, subnet: &'a str) -> impl Iterator<Item = &'a Interface> {
        self.interface
            .iter()
            .filter(move |i| i.subnet_id.as_deref() == Some(subnet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_find_their_interfaces() {
        let inventory: Inventory = serde_json::from_str(
            r#"{"interface": [
                {"eni": "eni-0a1b2c3d", "name": "eth0"},
                {"eni": "eni-0a1b2c3e", "name": "eth0", "host": "web-1"},
                {"eni": "eni-0a1b2c3f", "exporter": "192.0.2.1", "if-index": 3}
            ]}"#,
        )
        .unwrap();
        inventory.validate().unwrap();
        let eni = |i: Option<&Interface>| i.map(|i| i.eni.clone());
        assert_eq!(
            eni(inventory.by_name("web-1", "eth0")).as_deref(),
            Some("eni-0a1b2c3e")
        );
        assert_eq!(
            eni(inventory.by_name("db-1", "eth0")).as_deref(),
            Some("eni-0a1b2c3d")
        );
        assert_eq!(eni(inventory.by_name("db-1", "eth1")), None);
        let exporter = "192.0.2.1".parse().unwrap();
        assert_eq!(
            eni(inventory.by_exporter(exporter, 3)).as_deref(),
            Some("eni-0a1b2c3f")
        );
        assert_eq!(eni(inventory.by_exporter(exporter, 4)), None);
        let half = r#"{"interface": [{"eni": "eni-0a1b2c3d", "exporter": "192.0.2.1"}]}"#;
        assert!(
            serde_json::from_str::<Inventory>(half)
                .unwrap()
                .validate()
                .is_err()
        );
    }

    #[test]
    fn validation() {
        let one = |json: &str| serde_json::from_str::<Inventory>(json).unwrap().validate();
        assert!(
            one(r#"{"interface": [{"eni": "eni-0a1b2c3d", "account": "123456789012"}]}"#).is_ok()
        );
        assert!(one(r#"{"interface": [{"eni": "eth0"}]}"#).is_err());
        assert!(
            one(r#"{"interface": [{"eni": "eni-0a1b2c3d", "vpc-id": "subnet-0a1b2c3d"}]}"#)
                .is_err()
        );
        assert!(
            one(r#"{"interface": [{"eni": "eni-0a1b2c3d"}, {"eni": "eni-0a1b2c3d"}]}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Inventory>(
                r#"{"interface": [{"eni": "eni-0a1b2c3d", "vpc": "x"}]}"#
            )
            .is_err()
        );
    }
}
