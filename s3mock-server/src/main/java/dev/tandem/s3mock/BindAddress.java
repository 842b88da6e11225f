package dev.tandem.s3mock;

import org.apache.catalina.connector.Connector;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Binds S3Mock's plain-HTTP connector (a bean of its own, which {@code server.address} does not
 * reach) to {@code tandem.s3.bindAddress}, e.g. 127.0.0.1 for the demo's witness. Added with
 * {@code --spring.main.sources=dev.tandem.s3mock.BindAddress}.
 */
public final class BindAddress implements BeanPostProcessor, EnvironmentAware {
    private String address = "";

    @Override
    public void setEnvironment(Environment environment) {
        address = environment.getProperty("tandem.s3.bindAddress", "");
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof Connector connector && !address.isEmpty()) {
            connector.setProperty("address", address);
        }
        return bean;
    }
}
